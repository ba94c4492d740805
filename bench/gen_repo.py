#!/usr/bin/env python3
"""Generates a large, well-typed Pave repository for benchmarks.

    gen_repo.py OUT_DIR --rules 10000 --types 20 [--files 50] [--seed 1]

Rules have realistic shapes: principal narrowing, enum tests, duration bounds, string
prefixes and globs, map-key guards, set quantifiers, approvals with quorum, grants,
guardrail denies with exceptions, and defs from the standard library.
"""
import argparse
import os
import random

SCHEMA = """namespace bench;

use std.nhi;
use std.time;

enum Env { dev, staging, prod, sandbox }
enum Tier { bronze, silver, gold }

principal Human { email: String, groups: Set<String>, on_call: Bool, team: String }
principal Workload { spiffe_id: String, owner: String, env: Env, attested: Bool }
principal Agent { model: String, operator: String, delegated_by: String? }

context { source_ip: Ip?, break_glass: Bool }
"""

REQUEST = """
/// Generated catalog item {i}.
request Item{i} for Human, Workload, Agent {{
  account: String,
  role: String,
  env: Env,
  tier: Tier,
  duration: Duration,
  scopes: Set<String>,
  tags: Map<String, String>,
  justification: String?,
  grant max_ttl: Duration = 1h merge min,
  grant labels: Set<String> = [] merge union,
}}
"""


def rule(rng, n, t):
    target = f"Item{t}"
    env = rng.choice(["dev", "staging", "prod", "sandbox"])
    team = f"team-{rng.randrange(50)}"
    hours = rng.randrange(1, 9)
    kind = rng.randrange(8)
    if kind == 0:
        return (f"/// Rule {n}.\nallow r{n} on {target}\n  when principal is Human and principal.team == \"{team}\"\n"
                f"   and request.env == Env.{env} and request.duration <= {hours}h\n  grant max_ttl = request.duration;\n")
    if kind == 1:
        return (f"allow r{n} on {target}\n  when principal is Workload and principal.attested\n"
                f"   and request.account.startsWith(principal.owner) and nhi.short_lived(request.duration)\n"
                f"   and time.business_hours(context.time)\n  grant labels = [\"{team}\"];\n")
    if kind == 2:
        return (f"approve r{n} on {target}\n  by \"{team}-leads\", \"security\" quorum 2\n"
                f"  when request.env == Env.prod and request.role like \"admin-*\"\n  grant max_ttl = 30m;\n")
    if kind == 3:
        return (f"@severity(high)\ndeny r{n} on {target}\n  when principal is Agent and request.tier == Tier.gold\n"
                f"   and not request.scopes.isEmpty()\n  because \"agents cannot request gold tier {n}\";\n"
                f"exception e{n} lifts r{n}\n  when principal is Agent and principal.operator == \"{team}\"\n"
                f"  until 2027-01-15T00:00:00Z\n  owner \"{team}\"\n  ticket \"SEC-{n}\";\n")
    if kind == 4:
        return (f"allow r{n} on {target}\n  when \"owner\" in request.tags and request.tags[\"owner\"] == \"{team}\"\n"
                f"   and all s in request.scopes: s like \"read:*\";\n")
    if kind == 5:
        return (f"deny r{n} on {target}\n  unless has(request.justification) and request.justification.size() >= {10 + n % 20}\n"
                f"   or request.env in [Env.dev, Env.sandbox]\n  because \"justify non-dev requests\";\n")
    if kind == 6:
        return (f"allow r{n} on {target}\n  when if principal is Human then principal.on_call else false\n"
                f"   and any s in request.scopes: s.startsWith(\"ops:{n % 7}\");\n")
    return (f"allow r{n} on {target}\n  when has(context.source_ip) and context.source_ip in cidr(\"10.{n % 256}.0.0/16\")\n"
            f"   and request.role == \"role-{n}\" and context.time < 2027-06-01;\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--types", type=int, default=20)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "schema.pave"), "w") as f:
        f.write(SCHEMA)
        for i in range(args.types):
            f.write(REQUEST.format(i=i))
    per_file = max(1, args.rules // args.files)
    n = 0
    for k in range(args.files):
        with open(os.path.join(args.out, f"rules_{k:03}.pave"), "w") as f:
            f.write("namespace bench;\n\nuse std.nhi;\nuse std.time;\n\n")
            for _ in range(per_file):
                if n >= args.rules:
                    break
                f.write(rule(rng, n, n % args.types) + "\n")
                n += 1


if __name__ == "__main__":
    main()
