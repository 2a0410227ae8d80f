-- marts.accounts: one row per account a usage row can name (account_type x account_id), with
-- the name it goes by. The OpenAI organisation (FOCUS's billing account: the dashboard's cost
-- exports name it), its projects (sub accounts) and users, as the saved project and user
-- lists name them, and the API keys: an OpenAI key as the saved key lists name it (with who
-- owns it), a gateway key by the alias LiteLLM logged it under. Each as the newest file that
-- lists it has it; a gateway key's alias wins over an OpenAI list's for the same id (the
-- ids never collide in practice: key_... against a hash).
WITH organizations AS (
    -- the newest file that gives the organisation a name (the cost export names it on every
    -- row; an export saved without the name column still names the organisation)
    SELECT
        'organization'                 AS account_type,
        organization_id                AS account_id,
        organization_name              AS account_name,
        NULL::VARCHAR                  AS key_owner,
        'openai_dashboard'             AS named_in
    FROM staging.openai_organizations
    QUALIFY row_number() OVER (PARTITION BY organization_id
                               ORDER BY organization_name IS NULL, file_id DESC) = 1
),

projects AS (
    SELECT 'project', project_id, project_name, NULL::VARCHAR, 'openai_projects_json'
    FROM staging.openai_projects
    QUALIFY row_number() OVER (PARTITION BY project_id ORDER BY file_id DESC) = 1
),

users AS (
    SELECT 'user', user_id, user_name, NULL::VARCHAR, 'openai_users_json'
    FROM staging.openai_users
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY file_id DESC) = 1
),

gateway_keys AS (
    -- the name each gateway key went by most recently (LiteLLM's user_api_key_alias)
    SELECT 'api_key', api_key_id, key_alias, NULL::VARCHAR, 'litellm'
    FROM staging.gateway_key_aliases
    QUALIFY row_number() OVER (PARTITION BY api_key_id
                               ORDER BY last_seen DESC, file_id DESC, key_alias) = 1
),

openai_keys AS (
    -- each OpenAI key as the newest saved project key list has it
    SELECT 'api_key', api_key_id, key_alias, key_owner, 'openai_api_keys_json'
    FROM staging.openai_api_keys
    WHERE api_key_id NOT IN (SELECT api_key_id FROM staging.gateway_key_aliases)
    QUALIFY row_number() OVER (PARTITION BY api_key_id ORDER BY file_id DESC) = 1
)

SELECT * FROM organizations
UNION ALL SELECT * FROM projects
UNION ALL SELECT * FROM users
UNION ALL SELECT * FROM gateway_keys
UNION ALL SELECT * FROM openai_keys
ORDER BY account_type, account_id
