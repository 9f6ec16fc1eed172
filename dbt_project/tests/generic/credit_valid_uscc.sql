{#
  统一社会信用代码, GB 32100-2015: the shape (2 + 6 digits + 10, no I O S V Z) and the check digit: each of the
  first 17 characters' value (its position in the character set) times the weight 3^i mod 31, summed; the 18th
  character is the set's character at (31 - sum mod 31) mod 31.
  On a column (`column_name`) or on several columns of a model at once (`columns`: one scan of the table, as the
  landing tables' sources have it; three scans of 10M landing rows took 100 s of a full build).
  One failing row per invalid code and column, with the number of records that carry it. The arithmetic runs
  once per distinct code: an authority's or a source unit's code repeats on millions of records.
#}
{% test credit_valid_uscc(model, column_name=none, columns=none) %}
    {%- set charset = '0123456789ABCDEFGHJKLMNPQRTUWXY' %}
    {%- set cols = columns if columns else [column_name] %}
    with codes as (
        {%- if cols | length == 1 %}
        select '{{ cols[0] }}' as column_name, {{ cols[0] }} as code, count(*) as records
        from {{ model }}
        where {{ cols[0] }} is not null
        group by 2
        {%- else %}
        select v.column_name, v.code, count(*) as records
        from (select {{ cols | join(', ') }} from {{ model }}) t
        cross join lateral (values {% for c in cols %}('{{ c }}', t.{{ c }}){% if not loop.last %}, {% endif %}{% endfor %}) v(column_name, code)
        where v.code is not null
        group by 1, 2
        {%- endif %}
    )
    select column_name, code, records from codes
    where code !~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'
       or substr(code, 18, 1) <> substr('{{ charset }}', (31 - (
            {%- for i in range(17) %}
            (strpos('{{ charset }}', substr(code, {{ i + 1 }}, 1)) - 1) * {{ (3 ** i) % 31 }}
            {%- if not loop.last %} +{% endif %}
            {%- endfor %}
        ) % 31) % 31 + 1, 1)
{% endtest %}
