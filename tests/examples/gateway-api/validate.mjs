// @ts-check
// Validate Gateway API objects (JSON array on stdin) against the schemas generated from
// the Gateway API CRDs. Prints one line per object; exits 1 if any is invalid.
import { readFileSync } from "node:fs";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";

const kinds = { Gateway, HTTPRoute };
const docs = JSON.parse(readFileSync(0, "utf8"));
for (const doc of docs) {
  const Model = kinds[/** @type {keyof typeof kinds} */ (doc.kind)];
  if (!Model || doc.apiVersion !== "gateway.networking.k8s.io/v1") {
    console.log(`unknown ${doc.apiVersion} ${doc.kind}`);
    process.exitCode = 1;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`ok ${doc.kind} ${doc.metadata.name}`);
  } catch (error) {
    console.log(`invalid ${doc.kind} ${doc.metadata.name}: ${/** @type {Error} */ (error).message}`);
    process.exitCode = 1;
  }
}
