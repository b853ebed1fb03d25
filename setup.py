"""The wheel's packages: the app, and the top-level migrations/ folder inside it as
`app.migrations` (the design card keeps migrations/ beside app/; an installed bihuan must find
them too, from any directory). Everything else about the project is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["app", "app.*"]), "app.migrations",
              "app.migrations.versions"],
    package_dir={"app.migrations": "migrations"},
    package_data={"app.migrations": ["script.py.mako"]},
)
