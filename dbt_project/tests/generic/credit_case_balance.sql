{% test credit_case_balance(model) %}
    {# a case resolved in the month was outstanding at its start or new in it; a later report that reopens a
       resolved case (or a case that first arrives resolved) is the only other movement #}
    select month from {{ model }}
    where outstanding_at_end > outstanding_at_start + new_cases
{% endtest %}
