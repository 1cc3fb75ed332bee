#!/usr/bin/env bash
# A short, real tour of msp against a throw-away database (run by `make demo`).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/msp-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MSP_DB="$work/msp.db" MSP_CONFIG="$work/config.toml" MSP_ACTOR="demo-operator"
unset MSP_AS

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
# Show each command as you would type it (quoted where the shell needs it), then run it.
shown() { local a out=""; for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:@=+,-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
done; printf '%s' "${out# }"; }
step() { printf '\n%s$ %s%s\n' "$bold" "$(shown "$@")" "$plain" >&2; "$@"; }

echo "msp demo: a throw-away database in $work" >&2
step msp --version

# Payers and linked accounts (normally registered by `msp costs import`).
bash examples/seed-accounts.sh >/dev/null
step msp payers list
step msp accounts list --unassigned

# Customers from CSV; northwind is dedicated to its AWS org, excluding '* SP*' accounts.
step msp customers import examples/customers.csv
step msp customers list
step msp customers show northwind

# Preview a pattern, then watch a new account of the dedicated payer arrive by itself.
step msp accounts match '* SP*'
step msp accounts add 104729000006 --payer 111111111111 --name "Northwind Marketing"
step msp accounts list --customer northwind

# Re-importing the same file changes nothing.
step msp customers import examples/customers.csv

# A conflict: the account belongs to contoso; --move takes it.
step msp accounts assign wingtip 210987654321 || echo "(exit $? - as expected)" >&2
step msp accounts assign wingtip 210987654321 --move

# Customer users: one invitation, then a CSV file; export and re-import round-trips.
step msp users invite northwind ops@northwind-traders.example --role admin --name "Ops desk"
step msp users import northwind examples/users.csv
step msp users export northwind --output "$work/northwind-users.csv"
step msp users import northwind "$work/northwind-users.csv"
step msp users list northwind

# What a customer user sees: only its own customer and accounts, never anyone else's.
step msp --as maria.schneider@northwind-traders.example customers list
step msp --as maria.schneider@northwind-traders.example accounts list
step msp --as maria.schneider@northwind-traders.example payers list || echo "(exit $? - customer users may not see payers)" >&2

# Cost data: a FOCUS 1.2 export (gzip'd CSV) of two AWS payers, then a customer dedicated
# to one of them receives its linked accounts (all but the sandbox), and the month's
# spend per customer, with the spend no customer is billed for.
step msp costs import examples/focus-1.2-aws-2026-05.csv.gz
step msp customers create examplecorp --name "ExampleCorp" --dedicated 100000000001 --exclude 'sandbox*'
step msp costs months
step msp costs summary --month 2026-05
step msp costs summary --month 2026-05 --by account

# Pricing: a plan shared by customers, with a tiered margin and AWS support recomputed on
# AWS's schedule; examplecorp gets the plan and a credit grant drawn month by month.
step msp plans create standard --description "Standard MSP pricing"
step msp pricing add --plan standard --tiers "0:12,10000:8,80000:5"
step msp pricing add --plan standard --support business
step msp customers update examplecorp --plan standard --format json >/dev/null
step msp credits grant examplecorp 1000 --from 2026-05 --monthly-cap 400 --description "Onboarding credit"
step msp plans show standard

# Rebilling: bills from the month's costs, at most once per customer every 8 hours.
step msp rebill --all --month 2026-05
step msp rebill --customer examplecorp --month 2026-05 || echo "(exit $? - the cooldown refuses a second trigger)" >&2
# Add a fee of examplecorp's own and see what would change, without storing anything or a cooldown.
step msp pricing add examplecorp --fee 250 --description "Managed services"
step msp rebill --customer examplecorp --month 2026-05 --dry-run
step msp rebill show --customer examplecorp --month 2026-05 --explain

# Invoices: issue the month (an invoice where there is none; a credit or debit note for
# any later change; nothing twice), render it as HTML and PDF, and e-mail it. The outbox
# writes the message as a .eml file instead of sending it through smtp_host.
step msp config set issuer_name "Cloudwise Partners GmbH"
step msp config set issuer_address 'Hauptstrasse 12\n10115 Berlin\nGermany'
step msp config set issuer_email billing@cloudwise.example
step msp customers update examplecorp --billing-email ap@examplecorp.example --billing-address '1 Example Way\nSpringfield' >/dev/null
step msp rebill issue --all --month 2026-05
step msp rebill issue --all --month 2026-05
# The fee above reaches the bill at the next rebill (no cooldown for the demo):
# it warns that the invoiced month changed, and issuing again makes a debit note.
step msp config set rebill_cooldown_hours 0
step msp rebill --customer examplecorp --month 2026-05
step msp rebill issue --all --month 2026-05
year=$(date -u +%Y)
step msp invoices list
step msp invoices show "DN-$year-000001"
step msp invoices render "INV-$year-000001" --output "$work/invoice.html"
step msp invoices render "DN-$year-000001" --output "$work/debit-note.pdf"
step msp invoices send --month 2026-05 --outbox "$work/outbox"
step ls "$work/outbox"
step msp rebill export --month 2026-05 --customer examplecorp --format focus --output "$work/examplecorp-focus.csv"
step msp rebill status
step msp rebill margin --month 2026-05 --by rule

# Every change is in the hash-chained audit log.
step msp audit list --limit 8
step msp audit verify
