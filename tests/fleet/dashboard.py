#!/usr/bin/env python3
"""Every query of a Grafana dashboard against a running Prometheus: each must parse and return at
least one series. The queries are read from the dashboard's JSON (every panel's targets, rows'
panels included, and the template variables), so a panel added later is checked with the rest.
Prints one `ok:`/`FAIL:` line per query; exits 1 on any FAIL.

    dashboard.py DASHBOARD.json PROMETHEUS_URL

Grafana's variables are given the values a fleet's dashboard opens with: every site ($site is
`.*`, its "All"), a 5-minute range, a 30 s rate interval. A variable the script does not know is a
failure, so a new one is given a value here before its panel can pass."""
import json, re, sys, urllib.parse, urllib.request

dashboard, prometheus = sys.argv[1], sys.argv[2].rstrip("/")
VALUES = {"site": ".*", "__rate_interval": "30s", "__interval": "15s", "__range": "5m", "__range_s": "300",
          "__range_ms": "300000"}


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def queries(d):
    for p in panels(d.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield f'panel "{p.get("title")}" {t.get("refId", "?")}', t["expr"]
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        # label_values(metric, label) is Grafana's, not PromQL: the same question asked in PromQL.
        m = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", q or "")
        yield f'variable "{v["name"]}"', f"count by ({m.group(2)}) ({m.group(1)})" if m else q


def substitute(expr):
    def value(m):
        name = m.group(1) or m.group(2)
        if name not in VALUES:
            raise KeyError(name)
        return VALUES[name]
    # A variable's name starts with a letter or _: label_replace's "$1" is PromQL's, left alone.
    return re.sub(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)", value, expr)


failed = checked = 0
for where, expr in queries(json.load(open(dashboard))):
    checked += 1
    try:
        promql = substitute(expr)
    except KeyError as e:
        print(f"FAIL: {where}: the variable ${e.args[0]} has no value in tests/fleet/dashboard.py", flush=True)
        failed += 1
        continue
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            answer = json.load(r)
    except urllib.error.HTTPError as e:  # 400: the query does not parse
        answer = json.load(e)
    except OSError as e:
        answer = {"status": "error", "error": str(e)}
    if answer.get("status") != "success":
        print(f"FAIL: {where}: {answer.get('errorType', '')} {answer.get('error')}: {promql}", flush=True)
        failed += 1
    elif not answer["data"]["result"]:
        print(f"FAIL: {where}: no series: {promql}", flush=True)
        failed += 1
    else:
        print(f"ok: {where}: {len(answer['data']['result'])} series", flush=True)
print(f"dashboard: {checked} queries, {failed} failed")
sys.exit(1 if failed or checked == 0 else 0)
