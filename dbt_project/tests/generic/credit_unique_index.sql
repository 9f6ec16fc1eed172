{# The key of a large table is unique by a unique index on exactly its columns: PostgreSQL checks every row as
   it is written (a duplicate fails the model that writes it, full refresh or increment), where a `unique` test
   read the whole table again after each full build (30 s for fct_administrative_penalty at 10M rows). This test
   fails, one row, when the table has no valid unique index on these columns in this order. It reads the
   catalog, not the rows: `where` is off (the build scope is a filter on rows). #}
{% test credit_unique_index(model, columns) %}
    {{ config(where='') }}
    select '{{ model.schema }}.{{ model.identifier }}' as relation, '{{ columns | join(", ") }}' as missing_unique_index
    where not exists (
        select 1
        from pg_index i
        join pg_class c on c.oid = i.indrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = '{{ model.schema }}' and c.relname = '{{ model.identifier }}'
          and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
          and (select array_agg(a.attname::text order by k.ord)
               from unnest(i.indkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum)
              = array[{% for c in columns %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}]::text[]
    )
{% endtest %}
