-- The WhatsApp Business Cloud API bridge (docs/integrations.md#whatsapp): a source that is an agency's
-- WhatsApp number keeps the Meta app's secret (sealed with the data key), which signs every webhook
-- Meta posts (`X-Hub-Signature-256`), and the verify token of the subscription handshake (its SHA-256).
ALTER TABLE sources ADD COLUMN whatsapp_app_secret TEXT;
ALTER TABLE sources ADD COLUMN whatsapp_verify_sha256 TEXT;
