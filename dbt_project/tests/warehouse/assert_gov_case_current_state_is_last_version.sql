-- The current state of a case (survivorship over its copies) is the last version of its history (the same rule
-- replayed over time): a row here is a case whose two disagree.
select c.case_key, c.status, h.status as history_status
from {{ ref('fct_gov_dishonest_case') }} c
left join {{ ref('fct_gov_dishonest_case_history') }} h on h.case_key = c.case_key and h.valid_to is null
where h.case_key is null
   or (c.status, c.amount_wan, c.filed_on, c.listed_on, c.resolved_on, c.removed_on)
      is distinct from (h.status, h.amount_wan, h.filed_on, h.listed_on, h.resolved_on, h.removed_on)
   or c.state_received_at <> h.valid_from
