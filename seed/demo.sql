-- Local development seed: the Demo team and its three users (README "Two commands").
-- Idempotent: safe to run on every `npm run dev`. Never applied to a deployed database.
INSERT OR IGNORE INTO teams (id, name, primary_domain) VALUES ('team_demo', 'Demo', 'example.com');
INSERT OR IGNORE INTO users (id, kind, email, name) VALUES
  ('usr_demo_admin', 'human', 'admin@example.com', 'Demo Admin'),
  ('usr_demo_member', 'human', 'member@example.com', 'Demo Member'),
  ('usr_demo_observer', 'human', 'observer@example.com', 'Demo Observer');
INSERT OR IGNORE INTO memberships (user_id, team_id, role, on_call_role) VALUES
  ('usr_demo_admin', 'team_demo', 'admin', 'admin'),
  ('usr_demo_member', 'team_demo', 'member', 'responder'),
  ('usr_demo_observer', 'team_demo', 'observer', 'observer');
