{# The current moment; a macro so unit tests can pin it (overrides: macros: credit_now). #}
{% macro credit_now() %}now(){% endmacro %}
