-- catalog.billing_accounts: one row per provider, the account it bills this company's usage
-- to, from RADAR_BILLING_ACCOUNTS (empty when it is not set). marts.focus_costs takes its
-- BillingAccountId and -Name from here where the exports name none.
-- Input: `billing_accounts_in`, the rows of the file, already checked.
SELECT provider, billing_account_id, billing_account_name, source
FROM billing_accounts_in
ORDER BY lower(provider)
