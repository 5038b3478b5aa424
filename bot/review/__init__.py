"""`coach review`: the web page where coaches read what coachees chose to share with them.

One module one job: `app` builds the Starlette app (headers, errors, CSRF, sessions), `web`
holds the templates and the small helpers every page uses, `access` is the one check every
route but the login page goes through, `auth` logs in and out, `views` are the inbox, one
conversation and the exports' routes, `annotate` what a coach writes, `admin` the figures,
`reading` gathers one conversation, `exports` writes Markdown, JSON and CSV, `chart` draws
the asymmetry, `rubric` reads the tags, `server` serves it with uvicorn on 127.0.0.1.
"""
