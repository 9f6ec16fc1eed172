{# The facts this build touched that an earlier build wrote (int_touched_keys.is_new is false): the only facts
   whose rows an incremental build deletes from the fact-keyed tables. #}
{% macro credit_existing_touched_keys() -%}
    (select item_code, natural_key_hash from {{ ref('int_touched_keys') }} where not is_new)
{%- endmacro %}
