DROP TABLE notices;
DROP TABLE office_accounts;
