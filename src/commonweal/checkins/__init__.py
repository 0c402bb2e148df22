"""Check-ins, lone-worker sessions, team pulses, safety checks, and escalation that never loses an alert."""
