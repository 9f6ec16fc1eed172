{# Pre-hook of the models whose full build joins the winning copies of the whole history to their rows by
   (batch, row): fct_<item> and int_golden_subjects. PostgreSQL estimates a merge join over two sorts of the
   history cheaper than a hash join; measured on 10M rows (bench warehouse, fct_administrative_penalty) the
   merge join took 105–188 s, the hash join 38–40 s. `set local`: this model's transaction only. #}
{% macro credit_prefer_hash_join() -%}
    set local enable_mergejoin = off
{%- endmacro %}

{# Pre-hook of the models that filter a table of the whole history by a day's keys (`credit_in_keys`) and then
   join what they found: PostgreSQL cannot see how many keys the array holds, expects ten rows and would nest
   loops over the day's 100k (a build stalled on such a loop in fct_subject_records). `set local`: this model's
   transaction only. #}
{% macro credit_no_nested_loops() -%}
    set local enable_nestloop = off
{%- endmacro %}

{# Pre-hook (first) of int_record_survivorship, which deletes and re-reads the copies of a day's facts that an
   earlier build has (one random page each, scattered over tables of the whole history): found by bitmap scans
   (credit_existing_fact_in), their heap reads are issued ahead (PostgreSQL 18 read streams,
   `effective_io_concurrency`), where an index scan waits for each. Measured on the 10M bench history: 10k facts'
   copies read in 1.35 s instead of 2.0 s; the model's day 4.8-5.6 s -> 3.3-4.2 s. Tried on int_golden_keys and
   fct_<item> too: no gain there. `set local`: this model's transaction only (index-only scans stay on). #}
{% macro credit_prefetch_reads() -%}
    set local enable_indexscan = off
{%- endmacro %}
