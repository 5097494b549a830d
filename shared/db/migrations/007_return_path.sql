-- compatible: yes (a nullable column)
-- Where a sign-in returns to: the page of the archive the person was on
-- when they were asked to sign in (auth.SafeNext checked it, and checks it
-- again when the link is used).
ALTER TABLE login_tokens ADD COLUMN next_path text;
