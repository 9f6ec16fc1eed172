{# Generic tests used by the generated landing sources. #}

{% test credit_is_masked(model, column_name) %}
    {# a masked ID keeps region prefix and last four only: a clear 18-character ID number fails #}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} ~ '^[0-9]{17}[0-9Xx]$'
{% endtest %}

{% test credit_valid_uscc(model, column_name) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} !~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'
{% endtest %}

{% test credit_code_value(model, column_name, values, other_prefix) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and not ({{ column_name }} like '{{ other_prefix }}%' and length({{ column_name }}) > {{ other_prefix | length }})
{% endtest %}

{% test credit_copies_add_up(model, item_code) %}
    {# every landed copy of the item is counted in exactly one golden record: nothing lost, nothing doubled #}
    with golden as (select coalesce(sum(copies), 0) as n from {{ model }}),
         landed as (select count(*) as n from {{ ref('stg_landing__' ~ item_code) }})
    select golden.n as golden_copies, landed.n as landed_copies
    from golden, landed
    where golden.n <> landed.n
{% endtest %}

{% test credit_one_winner_per_fact(model) %}
    select item_code, natural_key_hash, count(*) filter (where is_winner) as winners
    from {{ model }}
    group by 1, 2
    having count(*) filter (where is_winner) <> 1
{% endtest %}

{% test credit_valid_periods_do_not_overlap(model, key, valid_from, valid_to) %}
    select a.{{ key }}
    from {{ model }} a
    join {{ model }} b
      on b.{{ key }} = a.{{ key }} and b.{{ valid_from }} > a.{{ valid_from }}
     and b.{{ valid_from }} < coalesce(a.{{ valid_to }}, 'infinity'::timestamptz)
{% endtest %}

{% test credit_case_balance(model) %}
    {# a case resolved in the month was outstanding at its start or new in it; a later report that reopens a
       resolved case (or a case that first arrives resolved) is the only other movement #}
    select month from {{ model }}
    where outstanding_at_end > outstanding_at_start + new_cases
{% endtest %}

{% test credit_required_and_codes(model, not_null, code_values) %}
    {# every required column filled and every code in its code list, in one scan of the table; a failing row
       names the check (not_null:<column> or code:<column>) and how many records fail it #}
    with counts as (
        select
            {%- for c in not_null %}
            count(*) filter (where {{ c }} is null) as "not_null:{{ c }}",
            {%- endfor %}
            {%- for c, spec in code_values.items() %}
            count(*) filter (where {{ c }} is not null
                and {{ c }} not in ({% for v in spec['values'] %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
                {%- if spec['other_prefix'] %}
                and not ({{ c }} like '{{ spec['other_prefix'] }}%' and length({{ c }}) > {{ spec['other_prefix'] | length }})
                {%- endif %}) as "code:{{ c }}",
            {%- endfor %}
            0 as none_failing
        from {{ model }}
    )
    select f.key as failing_check, f.value::bigint as failing_records
    from counts, jsonb_each_text(to_jsonb(counts)) f
    where f.value::bigint > 0
{% endtest %}

{% test credit_same_rows_as(model, source_table) %}
    {# a staging model has exactly the landed rows: none added, none lost #}
    select m.n as model_rows, l.n as landing_rows
    from (select count(*) as n from {{ model }}) m, (select count(*) as n from {{ source('landing', source_table) }}) l
    where m.n <> l.n
{% endtest %}
