{# The current moment; a macro so unit tests can pin it (overrides: macros: credit_now). #}
{% macro credit_now() %}now(){% endmacro %}

{# Today in Beijing, whatever the server's or session's time zone (current_date is the session's: UTC before
   08:00 Beijing would still be yesterday). #}
{% macro credit_today() %}({{ credit_now() }} at time zone 'Asia/Shanghai')::date{% endmacro %}
