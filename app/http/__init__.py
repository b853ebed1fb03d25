"""The HTTP layer shared by the API (app/api) and the pages (app/web): dependencies, uploads,
idempotency, downloads, the template environment. Nothing here decides a business rule."""
