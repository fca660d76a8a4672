"""What every readingroom process behind nginx must share: /etc/readingroom/voila.py (JUPYTER_CONFIG_DIR=/etc/readingroom).

The serving app reads this file at start-up. Without it each process makes up its own secrets,
and a cookie or a reveal key one process gave is refused by the next. Tested as it stands:
tests/nginx_fixtures.py starts its processes with this file, secrets in a folder of its own.

The secrets are files (a Kubernetes Secret mounted as a folder is the same), made once:

    install -d -m 700 /etc/readingroom/secrets
    head -c 32 /dev/urandom | base64 > /etc/readingroom/secrets/cookie_secret
    head -c 32 /dev/urandom | base64 > /etc/readingroom/secrets/reveal_secret
"""

import os
from pathlib import Path

secrets = Path(os.environ.get("READINGROOM_SECRETS", "/etc/readingroom/secrets"))

# Signs the sign-in cookie (educators, CME accounts) and the case pages' reader cookie.
c.Voila.cookie_secret = (secrets / "cookie_secret").read_bytes().strip()  # noqa: F821 - `c` is the config
# Signs the reveal keys of case pages: a stage revealed through one process opens on any other.
c.ServeVoila.reveal_secret = (secrets / "reveal_secret").read_text().strip()  # noqa: F821
