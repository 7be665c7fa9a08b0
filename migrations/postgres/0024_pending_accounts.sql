-- With SMTP on, nothing a sign-up or an address change answers may tell whether an address
-- has an account. A sign-up's account signs in only once its link is opened
-- (`signup_pending`); a new address is kept aside (`pending_email`) until its link is opened,
-- so the account's address, its logins and its password resets stay as they were meanwhile.
ALTER TABLE users ADD COLUMN signup_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN pending_email TEXT;
