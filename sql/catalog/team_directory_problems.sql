-- catalog.team_directory_problems: one row per line of RADAR_TEAMS_FILE that maps no key (a
-- stray quote, an unknown key type, a key already mapped to another team, a missing team),
-- saying which line and why, in the file's order; empty when every line maps. The usage such
-- a line would have claimed falls to the next key in precedence order, or to `unassigned`.
-- Input: `team_directory_problems_in`, the problems as the team directory asset read them.
SELECT position, problem
FROM team_directory_problems_in
ORDER BY position
