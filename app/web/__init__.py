"""Server-rendered pages, one module per domain; templates and static files beside them."""
