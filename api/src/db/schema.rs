//! Diesel table definitions, the same for both backends (see `migrations/`).

diesel::table! {
    ledger_entries (prefecture_code, office_number) {
        prefecture_code -> Text,
        office_number -> Text,
        office_name -> Text,
        kind -> Text,
        postal_code -> Text,
        address -> Text,
        phone -> Text,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    reissue_applications (id) {
        id -> Text,
        token_hash -> Text,
        office_number -> Text,
        email -> Text,
        prefecture_code -> Nullable<Text>,
        office_name -> Nullable<Text>,
        status -> Text,
        closed_reason -> Nullable<Text>,
        reference_number -> Nullable<Text>,
        code_hash -> Nullable<Text>,
        code_expires_at -> Nullable<Timestamp>,
        code_failed_attempts -> Integer,
        codes_issued -> Integer,
        last_code_sent_at -> Nullable<Timestamp>,
        client_address -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        expires_at -> Timestamp,
        verified_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        reprint_requested_by -> Nullable<Text>,
        reprint_requested_at -> Nullable<Timestamp>,
        reprint_reason -> Nullable<Text>,
        envelope -> Text,
        envelope_requested_at -> Nullable<Timestamp>,
        envelope_received_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reviewers (id) {
        id -> Text,
        login_id -> Text,
        name -> Text,
        role -> Text,
        prefecture_code -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        mfa_secret -> Nullable<Text>,
        mfa_pending_secret -> Nullable<Text>,
        mfa_enrolled_at -> Nullable<Timestamp>,
        mfa_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    application_notes (id) {
        id -> Text,
        application_id -> Text,
        reviewer_id -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(application_notes -> reviewers (reviewer_id));

diesel::table! {
    outbox_messages (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        application_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dev_messages (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rate_limit_counters (bucket) {
        bucket -> Text,
        slot_seconds -> BigInt,
        slots -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        application_id -> Nullable<Text>,
        office_number -> Nullable<Text>,
        prefecture_code -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    ledger_entries,
    reissue_applications,
    outbox_messages,
    dev_messages,
    rate_limit_counters,
    audit_log,
    reviewers,
    application_notes,
);

diesel::table! {
    office_accounts (id) {
        id -> Text,
        user_id -> Text,
        office_number -> Text,
        prefecture_code -> Text,
        password_hash -> Nullable<Text>,
        temp_password_hash -> Nullable<Text>,
        temp_password_expires_at -> Nullable<Timestamp>,
        must_change_password -> Bool,
        security_email -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        application_id -> Text,
        account_id -> Text,
        sealed_password -> Nullable<Text>,
        issued_at -> Timestamp,
        mailed_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
        mailed_on -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        mailed_by -> Nullable<Text>,
        mailed_to -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(office_accounts, notices, reissue_applications);
diesel::joinable!(notices -> reissue_applications (application_id));

diesel::table! {
    prefecture_settings (prefecture_code) {
        prefecture_code -> Text,
        federation_name -> Text,
        federation_address -> Text,
        federation_phone -> Text,
        helpdesk_phone -> Text,
        return_envelope_required -> Bool,
        envelope_instructions -> Text,
        callback_required -> Bool,
        review_target_business_days -> Integer,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    callbacks (id) {
        id -> Text,
        application_id -> Text,
        reviewer_id -> Text,
        phone -> Text,
        reached -> Bool,
        note -> Text,
        called_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(notices, reviewers, callbacks);

diesel::table! {
    security_codes (id) {
        id -> Text,
        purpose -> Text,
        account_id -> Nullable<Text>,
        token_hash -> Nullable<Text>,
        email -> Text,
        code_hash -> Nullable<Text>,
        expires_at -> Timestamp,
        failed_attempts -> Integer,
        verified_at -> Nullable<Timestamp>,
        consumed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (key) {
        key -> Text,
        subject -> Text,
        failures -> Integer,
        locks -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        holder -> Text,
        subject_id -> Text,
        scope -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reviewer_recovery_codes (id) {
        id -> Text,
        reviewer_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ledger_entry_versions (id) {
        id -> Text,
        prefecture_code -> Text,
        office_number -> Text,
        office_name -> Text,
        kind -> Text,
        postal_code -> Text,
        address -> Text,
        phone -> Text,
        imported_at -> Timestamp,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    ledger_acknowledgements (application_id) {
        application_id -> Text,
        acknowledged_at -> Timestamp,
        acknowledged_by -> Text,
    }
}

diesel::table! {
    idempotency_keys (key_hash) {
        key_hash -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_content_type -> Nullable<Text>,
        response_location -> Nullable<Text>,
        response_body -> Nullable<Text>,
        locked_until -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}
