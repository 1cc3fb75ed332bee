#!/usr/bin/env bash
# Payer and linked accounts of a small reseller, as `msp` commands (the demo runs these;
# in real life `msp costs import` registers them from the cost files).
set -euo pipefail
msp payers add 111111111111 --name "Reseller AWS org (dedicated: Northwind)" --provider aws
msp payers add 222222222222 --name "Reseller AWS org (shared)" --provider aws
msp payers add 8611537 --name "Reseller Azure billing account" --provider azure
msp payers add 01A2B3-C4D5E6-F7G8H9 --name "Reseller GCP billing account" --provider gcp
msp accounts add 104729000001 --payer 111111111111 --name "Northwind Prod"
msp accounts add 104729000002 --payer 111111111111 --name "Northwind Staging"
msp accounts add 104729000003 --payer 111111111111 --name "Northwind SP-Compute"
msp accounts add 104729000004 --payer 111111111111 --name "Northwind Data Lake"
msp accounts add 104729000005 --payer 111111111111 --name "Reseller SP-Pool"
msp accounts add 210987654321 --payer 222222222222 --name "Contoso Web"
msp accounts add 321098765432 --payer 222222222222 --name "Contoso Analytics"
msp accounts add 432109876543 --payer 222222222222 --name "Wingtip Toys Shop"
msp accounts add 3f2504e0-4f89-11d3-9a0c-0305e82c3301 --payer 8611537 --name "Fabrikam Production"
msp accounts add 7c9e6679-7425-40de-944b-e07fc1f90ae7 --payer 8611537 --name "Fabrikam Dev/Test"
msp accounts add tailspin-prod-4821 --payer 01A2B3-C4D5E6-F7G8H9 --name "Tailspin Prod"
msp accounts add tailspin-ml-0917 --payer 01A2B3-C4D5E6-F7G8H9 --name "Tailspin ML [gpu]"
