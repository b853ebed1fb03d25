"""The access policy: who may see and do what. `actor` (the caller's scope facts), `scopes`
(visibility clauses), `duties` (relations to a hazard), `roles` (the roles of every action and
every role question), `pages` (the flags pages show buttons by). The only package that compares
roles; tests/unit/test_architecture.py enforces it."""
