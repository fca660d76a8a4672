"""readingroom as an external service of your JupyterHub: add this to the hub's jupyterhub_config.py.

You start `readingroom serve --jupyterhub` yourself (systemd, another machine) with the variables
docs/deploy.md lists; the hub's proxy forwards /services/readingroom/ to it and people sign in to it
through the hub. tests/hub_fixtures.py starts a real hub with this very file, only the site values changed.
"""

import os

# Your site: set these two.
READINGROOM_URL = "http://127.0.0.1:8866"  # where readingroom listens; the hub's proxy forwards to it
EDUCATORS = "educators"  # members of this hub group are educators in readingroom (hub admins are too)

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

readingroom_service = {
    "name": "readingroom",
    "url": READINGROOM_URL,
    # The token readingroom shows the hub (its JUPYTERHUB_API_TOKEN): kept out of this file, made once with
    # `openssl rand -hex 32` and given to both the hub and readingroom.
    "api_token": os.environ["READINGROOM_API_TOKEN"],
    "oauth_no_confirm": True,  # part of the site, not a third party: no "authorize readingroom?" page
}
c.JupyterHub.services.append(readingroom_service)
# Every hub user may open readingroom (without this scope the hub refuses to sign them in to it).
c.JupyterHub.extra_user_scopes.add("access:services!service=readingroom")
# The educators' group exists from the start; add people to it on the hub's admin page (/hub/admin).
c.JupyterHub.load_groups.update({EDUCATORS: {"users": []}})
