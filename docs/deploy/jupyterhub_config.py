"""readingroom as a service of your JupyterHub: add this to the hub's jupyterhub_config.py.

The hub starts `readingroom serve` (a managed service), its proxy forwards /services/readingroom/
to it, and people sign in to readingroom through the hub (docs/deploy.md, "JupyterHub sign-in").
tests/hub_fixtures.py starts a real hub with this very file, only the four site values changed.
"""

# Your site: set these four.
READINGROOM_URL = "http://127.0.0.1:8866"  # where readingroom listens; the hub's proxy forwards to it
CASES = "/srv/readingroom/cases"  # the cases folder (curriculum/ beside it holds the modules)
RECORDS = "postgresql+psycopg://readingroom@db.hospital.org/readingroom"  # the records store
EDUCATORS = "educators"  # members of this hub group are educators in readingroom (hub admins are too)

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

readingroom_service = {
    "name": "readingroom",
    "url": READINGROOM_URL,
    # The hub sets JUPYTERHUB_* for the service (its API token, OAuth client, prefix); readingroom
    # takes its port from READINGROOM_URL through them.
    "command": ["readingroom", "serve", CASES, "--jupyterhub", f"--educator-group={EDUCATORS}"],
    "environment": {"READINGROOM_RECORDS": RECORDS},
    "oauth_no_confirm": True,  # part of the site, not a third party: no "authorize readingroom?" page
    "timeout": 120,  # seconds the hub waits at start-up: readingroom checks every case before it serves
}
c.JupyterHub.services.append(readingroom_service)
# Every hub user may open readingroom (without this scope the hub refuses to sign them in to it).
c.JupyterHub.extra_user_scopes.add("access:services!service=readingroom")
# The educators' group exists from the start; add people to it on the hub's admin page (/hub/admin).
c.JupyterHub.load_groups.update({EDUCATORS: {"users": []}})
