# Pub/Sub (off unless var.pubsub.enabled): the outcomes topic every tier publishes to, and for each
# tier in var.pubsub.tiers a jobs topic pushed to that tier's service. IAM for all of it is in iam.tf.
#
#   producer ──► <prefix>-tier-N topic ──push (OIDC: <prefix>-pusher)──► tier N service
#                     └─ <prefix>-tier-N-push ──(max_delivery_attempts spent)──► <prefix>-dead-letter topic ──► <prefix>-dead-letter (pull)
#   every tier ──(terminal outcome)──► <prefix>-outcomes topic ──► <prefix>-outcomes (pull) and the clients' own subscriptions
#
# Every topic here has a subscription: Pub/Sub keeps messages only for subscriptions that exist when
# they are published, so a topic without one silently loses everything published to it.

locals {
  # The Pub/Sub service agent: it signs the push OIDC tokens (as the pusher account), and moves
  # messages from a subscription to its dead-letter topic (subscriber on the one, publisher on the other).
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Tiers fed by a push subscription, keyed like local.tiers.
  pubsub_tiers = {
    for k, t in local.tiers : k => {
      topic        = "${var.name_prefix}-tier-${k}"
      subscription = "${var.name_prefix}-tier-${k}-push"
      # The tier's URL is both where Pub/Sub pushes and the audience of the token, exactly the
      # tier's AUTH_AUDIENCE (as for Cloud Tasks pushes).
      endpoint = t.url
      # For push, the ack deadline is how long Pub/Sub waits for the answer: at least the service's
      # request timeout (the work's limit plus 60 s for the handoff), so a slow run is not redelivered
      # while it still runs. worker_timeout_seconds <= 540 keeps it within Pub/Sub's 600 s.
      ack_deadline_seconds = t.worker_timeout_seconds + 60
      # More deliveries than the executor's budget, so a message whose handoff failed (answered 503
      # after the last budgeted attempt) is redelivered to retry only the handoff: the tier queue's
      # limit (max_attempts + handoff_retries), within Pub/Sub's 5 to 100. Pub/Sub has no
      # "unlimited": an unlimited queue (-1) becomes 100.
      max_delivery_attempts = t.queue_max_attempts == -1 ? 100 : min(100, max(5, t.queue_max_attempts))
      max_attempts          = t.max_attempts
    } if t.subscription != null
  }

  # One outcomes topic and one dead-letter topic per chain, or none.
  pubsub_outcomes_count = var.pubsub.enabled ? 1 : 0
  pubsub_push_count     = var.pubsub.enabled && length(var.pubsub.tiers) > 0 ? 1 : 0

  # NOTIFY_TOPIC of every tier, or null without Pub/Sub.
  outcomes_topic = var.pubsub.enabled ? "projects/${var.project}/topics/${var.name_prefix}-outcomes" : null

  # Publishers of jobs, per fed tier: "TIER MEMBER" => { tier, member }.
  pubsub_publishers = {
    for pair in setproduct(keys(local.pubsub_tiers), var.pubsub.publishers) : "${pair[0]} ${pair[1]}" => { tier = pair[0], member = pair[1] }
  }
}

# --- jobs: a topic per fed tier, pushed to the tier's service -------------------------------------------

resource "google_pubsub_topic" "tier" {
  for_each = local.pubsub_tiers

  project = var.project
  name    = each.value.topic
  labels  = merge(local.labels, { "executor-tier" = each.key })

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "tier" {
  for_each = local.pubsub_tiers

  project = var.project
  name    = each.value.subscription
  topic   = google_pubsub_topic.tier[each.key].id
  labels  = merge(local.labels, { "executor-tier" = each.key })

  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = "604800s"

  # Wrapped (the default): the executor recognises the push envelope and reads deliveryAttempt from it.
  push_config {
    push_endpoint = each.value.endpoint
    oidc_token {
      service_account_email = google_service_account.pusher[0].email
      audience              = each.value.endpoint
    }
  }

  # Without a dead-letter policy Pub/Sub sends no deliveryAttempt and the executor cannot count its
  # budget; it checks maxDeliveryAttempts > MAX_ATTEMPTS at startup, as it checks its queue.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[0].id
    max_delivery_attempts = each.value.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = var.pubsub.min_backoff
    maximum_backoff = var.pubsub.max_backoff
  }

  # Never expire (the default deletes a subscription after 31 days without activity — an idle chain).
  expiration_policy {
    ttl = ""
  }

  lifecycle {
    precondition {
      condition     = each.value.max_delivery_attempts > each.value.max_attempts
      error_message = "Tier ${each.key} is fed by Pub/Sub, whose max_delivery_attempts is at most 100: its max_attempts must be below 100 so a failed handoff can be redelivered."
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}

# --- outcomes: what every tier publishes (NOTIFY_TOPIC) ---------------------------------------------------

resource "google_pubsub_topic" "outcomes" {
  count = local.pubsub_outcomes_count

  project = var.project
  name    = "${var.name_prefix}-outcomes"
  labels  = local.labels

  depends_on = [google_project_service.enabled]
}

# Keeps every outcome (7 days) from the first apply on, for clients that pull rather than attach
# a subscription of their own (which only receives what is published after it exists).
resource "google_pubsub_subscription" "outcomes" {
  count = local.pubsub_outcomes_count

  project = var.project
  name    = "${var.name_prefix}-outcomes"
  topic   = google_pubsub_topic.outcomes[0].id
  labels  = local.labels

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_project_service.enabled]
}

# --- dead letters: messages a tier's subscription gave up on ------------------------------------------------

resource "google_pubsub_topic" "dead_letter" {
  count = local.pubsub_push_count

  project = var.project
  name    = "${var.name_prefix}-dead-letter"
  labels  = local.labels

  lifecycle {
    # Checked here because a variable's validation cannot read another variable before Terraform 1.9.
    precondition {
      condition     = alltrue([for n in var.pubsub.tiers : contains(keys(local.tiers), tostring(n))])
      error_message = "pubsub.tiers names a tier that var.tiers does not have."
    }
  }

  depends_on = [google_project_service.enabled]
}

# The dead-letter topic's own subscription: without it, dead-lettered messages would be dropped.
# Pull, kept 31 days (Pub/Sub's maximum) for a human to inspect or republish.
resource "google_pubsub_subscription" "dead_letter" {
  count = local.pubsub_push_count

  project = var.project
  name    = "${var.name_prefix}-dead-letter"
  topic   = google_pubsub_topic.dead_letter[0].id
  labels  = local.labels

  ack_deadline_seconds       = 600
  message_retention_duration = "2678400s"

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_project_service.enabled]
}
