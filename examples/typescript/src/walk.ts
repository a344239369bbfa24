// The whole applicant flow through openapi-fetch, typed by openapi-typescript from the served
// OpenAPI document: what a billing program (請求ソフト) does for an office that lost its login.
// It applies, chooses the billing prefecture, reads the 確認コード from the mail, enters it, sends
// the application and shows its 受付番号; on the way it retries a call as after a timeout (the
// Idempotency-Key makes the retry safe), reads its remaining limits from the RateLimit fields,
// and shows a refused input from the problem's `errors`, as a screen would.
//
//   npm install
//   REISSUE_API=http://127.0.0.1:8080 npm run generate   # src/schema.d.ts from /api/openapi.json
//   npm run build && REISSUE_API=http://127.0.0.1:8080 npm run walk
//
// against a server started with `reissue serve --demo` (its development mailbox stands in for the
// office's mail box). `./dev test` does all of it against a fresh demo server.

import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = process.argv[2] ?? "http://127.0.0.1:8080";
const api = createClient<paths>({ baseUrl });

const OFFICE = "1311111111"; // the manual's example office (東京都 in the demo ledger)
const EMAIL = `typescript-${crypto.randomUUID().slice(0, 8)}@example.jp`;

/** Stops the walk with a message when a step did not go as the API documents. */
function expect(condition: unknown, what: string): asserts condition {
  if (!condition) {
    console.error(`walk failed: ${what}`);
    process.exit(1);
  }
}

/** The RateLimit member of `policy`, e.g. `"client";r=59;t=3540`. */
function rateLimit(response: Response, policy: string): string {
  const members = (response.headers.get("ratelimit") ?? "").split(",").map((m) => m.trim());
  return members.find((m) => m.startsWith(`"${policy}";`)) ?? "";
}

async function main(): Promise<void> {
  // A refused input: the problem names each field and says in Japanese what to do.
  const refused = await api.POST("/api/v1/reissue-applications", {
    body: { office_number: "13111", email: EMAIL, email_confirmation: "other@example.jp" },
  });
  expect(refused.response.status === 422 && refused.error, "a bad office number is refused");
  for (const error of refused.error.errors ?? []) {
    console.log(`refused: ${error.field} (${error.code}): ${error.message}`);
  }
  const fields = new Set((refused.error.errors ?? []).map((error) => error.field));
  expect(fields.has("office_number") && fields.has("email_confirmation"), "both fields named");

  // Step 6: apply. The key is sent again with a retry after a timeout.
  const key = crypto.randomUUID();
  const body = { office_number: OFFICE, email: EMAIL, email_confirmation: EMAIL };
  const first = await api.POST("/api/v1/reissue-applications", {
    body,
    params: { header: { "Idempotency-Key": key } },
  });
  expect(first.response.status === 201 && first.data, `create gave ${first.response.status}`);
  const created = first.data;
  console.log(`applied: ${created.id} (${created.status}); ${rateLimit(first.response, "client")}`);
  const retried = await api.POST("/api/v1/reissue-applications", {
    body,
    params: { header: { "Idempotency-Key": key } },
  });
  expect(retried.response.headers.get("idempotency-replayed") === "true", "the retry was replayed");
  expect(retried.data?.id === created.id, "the retry answered the same application");
  console.log("retried with the same Idempotency-Key: the same application, no second one");

  const auth = { Authorization: `Bearer ${created.token}` };
  const path = { id: created.id };

  // Step 7: the prefecture; the office is checked in its ledger and a code is mailed.
  const sent = await api.PUT("/api/v1/reissue-applications/{id}/prefecture", {
    params: { path, header: { "Idempotency-Key": crypto.randomUUID() } },
    headers: auth,
    body: { prefecture_code: "13" },
  });
  expect(sent.data, `prefecture gave ${sent.response.status}`);
  console.log(`code mailed to ${sent.data.email}; ${rateLimit(sent.response, "codes")}`);

  // Step 8: the office reads the mail (here: the demo server's development mailbox).
  let code = "";
  for (let tries = 0; tries < 100 && code === ""; tries++) {
    const mailbox = await api.GET("/api/dev/messages", { params: { query: { to: EMAIL } } });
    for (const message of mailbox.data ?? []) {
      code ||= /\[確認コード\]\s*(\d{4})\n/.exec(message.body)?.[1] ?? "";
    }
    if (code === "") await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(code !== "", "the code mail arrived");

  // Step 9: the code.
  const verified = await api.POST("/api/v1/reissue-applications/{id}/verification", {
    params: { path },
    headers: auth,
    body: { code },
  });
  expect(verified.data, `verification gave ${verified.response.status}`);
  console.log(`verified: ${verified.data.office_name}, ${verified.data.prefecture_name}`);

  // Steps 10–11: send it; the 受付番号 is what the office quotes to the federation.
  const submitted = await api.POST("/api/v1/reissue-applications/{id}/submission", {
    params: { path },
    headers: auth,
  });
  expect(submitted.data, `submission gave ${submitted.response.status}`);
  console.log(`submitted: 受付番号 ${submitted.data.reference_number}`);

  const view = await api.GET("/api/v1/reissue-applications/{id}", { params: { path }, headers: auth });
  expect(view.data?.status === "submitted", "the application reads back");
  console.log(`status: ${view.data.status_label}`);
}

await main();
