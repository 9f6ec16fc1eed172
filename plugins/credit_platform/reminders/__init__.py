"""Reminders to source units and escalations to their credit offices (rules × obligations × open problems)."""
