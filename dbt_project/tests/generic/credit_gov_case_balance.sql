{# outstanding at the start + new + reopened − resolved = outstanding at the end, for every row #}
{% test credit_gov_case_balance(model) %}
select * from {{ model }}
where outstanding_start + new_cases + reopened - resolved <> outstanding_end
   or resolved <> resolved_performed + resolved_settled + resolved_deleted
   or outstanding_end <> age_bucket_1 + age_bucket_2 + age_bucket_3 + age_bucket_4
{% endtest %}
