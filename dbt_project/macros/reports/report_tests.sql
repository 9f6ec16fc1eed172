{# Tests of the report models (gate 2 in dbt; the pandera gate repeats them on the frames before publishing). #}
{% test credit_rate_in_unit_interval(model, column_name) %}
select * from {{ model }} where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}

{% test credit_parts_within_total(model, part, total) %}
select * from {{ model }} where {{ part }} > {{ total }} or {{ part }} < 0
{% endtest %}

{# outstanding at the start + new + reopened − resolved = outstanding at the end, for every row #}
{% test credit_gov_case_balance(model) %}
select * from {{ model }}
where outstanding_start + new_cases + reopened - resolved <> outstanding_end
   or resolved <> resolved_performed + resolved_settled + resolved_deleted
   or outstanding_end <> age_bucket_1 + age_bucket_2 + age_bucket_3 + age_bucket_4
{% endtest %}
