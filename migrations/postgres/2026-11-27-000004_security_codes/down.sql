DROP TABLE security_codes;
