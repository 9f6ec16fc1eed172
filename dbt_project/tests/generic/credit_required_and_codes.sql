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
