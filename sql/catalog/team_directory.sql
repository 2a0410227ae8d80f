-- catalog.team_directory: one row per (key_type, key_value), already de-duplicated.
-- Input: `team_directory_in`, the valid rows of RADAR_TEAMS_FILE.
SELECT key_type, key_value, team, owner
FROM team_directory_in
ORDER BY key_type, key_value
