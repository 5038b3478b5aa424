"""`coach review`: the web page where coaches read what coachees chose to share with them.

One module one job: `app` builds the Flask app (headers, errors, CSRF, sessions), `access`
is the one check every route but the login page goes through, `auth` logs in and out,
`views` are the pages, `reading` gathers one conversation, `exports` writes Markdown and
CSV, `chart` draws the asymmetry, `rubric` reads the tags, `server` serves it on 127.0.0.1.
"""
