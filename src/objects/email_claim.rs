//! The per-address Durable Object (binding `EMAIL_CLAIMS`, class `EmailClaim`) that makes user
//! creation atomic per e-mail address; the Worker's client for it is
//! `store::email_claims::EmailClaims`.
//!
//! A KV read-then-write is no claim: two creates of one address in flight at once both read
//! "free". Every create of an address is sent to that address's object instead, which handles
//! one request at a time (`blockConcurrencyWhile`), from any location, and decides with
//! [`email_lookup`] / [`email_decide`].
//!
//! The order of its steps makes a 2xx mean "KV has the user" and a 5xx mean "nothing changed":
//! 1. read its [`EmailRecord`] and whatever KV read the decision needs;
//! 2. store the claim unconfirmed (`committed: false`); a failure here answers 500 and changes
//!    nothing;
//! 3. write the user to KV (`user:<id>`, then `email:<address>`); a failure rolls the record
//!    back to what it was and answers 500;
//! 4. confirm the claim (`committed: true`) and answer "created". A failure here is only logged:
//!    KV has the user, so the answer stays 2xx, and the next create of the address finds the
//!    unconfirmed claim and asks KV whether its user is there (`user:<id>`, a key no one read
//!    before it was written, so no edge cache can answer for it).
//!
//! If step 3's rollback fails too, the unconfirmed claim is left, and step 4's check frees the
//! address again for the next create. The D1 row follows in the background, as for every user
//! write.

use super::one_at_a_time;
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, State, Storage,
};

use crate::account::{email_decide, email_lookup, EmailDecision, EmailLookup, EmailRecord, User};
use crate::app::kv;
use crate::store::email_claims::{ClaimRequest, EmailAnswer};
use crate::store::StoreError;

const RECORD_KEY: &str = "record";

#[durable_object]
pub struct EmailClaim {
    state: State,
    env: Env,
}

impl DurableObject for EmailClaim {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let (storage, env) = (self.state.storage(), self.env.clone());
        one_at_a_time(
            &self.state,
            req,
            "e-mail claim",
            |ClaimRequest { user }| async move { apply(&storage, &env, &user).await },
        )
        .await
    }
}

/// Steps 1 to 4 of the module doc.
async fn apply(storage: &Storage, env: &Env, user: &User) -> Result<EmailAnswer, StoreError> {
    let existing: Option<EmailRecord> = storage.get(RECORD_KEY).await.map_err(record_err)?;
    let kv = kv(env)?;
    let kv_has_user = match email_lookup(existing.as_ref()) {
        EmailLookup::Nothing => false,
        EmailLookup::Address => kv.user_id_for_email(&user.email).await?.is_some(),
        EmailLookup::User(id) => kv.user(&id).await?.is_some(),
    };
    if email_decide(existing.as_ref(), kv_has_user) == EmailDecision::Taken {
        return Ok(EmailAnswer::Taken);
    }
    let mut record = EmailRecord {
        owner: user.id.clone(),
        committed: false,
    };
    storage.put(RECORD_KEY, &record).await.map_err(record_err)?;
    if let Err(e) = kv.put_user(user).await {
        let rollback = match &existing {
            Some(previous) => storage.put(RECORD_KEY, previous).await,
            None => storage.delete(RECORD_KEY).await.map(drop),
        };
        if let Err(r) = rollback {
            // The unconfirmed claim stays; the next create checks KV for its user.
            console_error!("e-mail claim rollback failed: {r}");
        }
        return Err(e);
    }
    record.committed = true;
    if let Err(e) = storage.put(RECORD_KEY, &record).await {
        console_error!("e-mail claim confirmation failed (KV has the user): {e}");
    }
    Ok(EmailAnswer::Created)
}

fn record_err(e: worker::Error) -> StoreError {
    StoreError::EmailClaim(format!("record: {e}"))
}
