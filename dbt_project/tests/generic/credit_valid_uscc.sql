{#
  统一社会信用代码, GB 32100-2015: the shape (2 + 6 digits + 10, no I O S V Z) and the check digit: each of the
  first 17 characters' value (its position in the character set) times the weight 3^i mod 31, summed; the 18th
  character is the set's character at (31 - sum mod 31) mod 31.
  One failing row per invalid code, with the number of records that carry it. The arithmetic runs once per
  distinct code: an authority's or a source unit's code repeats on millions of records. (On 10M landing rows the
  subject-code column's test went from 24 s to 15 s; the authority columns' tests stay at ≈ 35 s: reading the
  table is their cost.)
#}
{% test credit_valid_uscc(model, column_name) %}
    {%- set charset = '0123456789ABCDEFGHJKLMNPQRTUWXY' %}
    with codes as (
        select {{ column_name }} as code, count(*) as records
        from {{ model }}
        where {{ column_name }} is not null
        group by 1
    )
    select code as {{ column_name }}, records from codes
    where code !~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'
       or substr(code, 18, 1) <> substr('{{ charset }}', (31 - (
            {%- for i in range(17) %}
            (strpos('{{ charset }}', substr(code, {{ i + 1 }}, 1)) - 1) * {{ (3 ** i) % 31 }}
            {%- if not loop.last %} +{% endif %}
            {%- endfor %}
        ) % 31) % 31 + 1, 1)
{% endtest %}
