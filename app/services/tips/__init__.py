"""Public tips (群众举报): report, routing, triage, rewards, the tipster's receipt, Open311."""
