"""The hazard state machine: states, the transition table, the machine and its guards, action
fields, deadlines (working days and the holiday calendar), spot-check sampling."""
