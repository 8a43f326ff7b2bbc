# Identities and the least privileges the chain needs.
#
#   runtime  — what the executors run as: enqueues into the next tier's queue, the notifier and the
#              dead-letter queue, reads its own queue (startup drift check), and may act as the
#              invoker account so the tasks it creates carry that account's OIDC token.
#   invoker  — the account whose OIDC token Cloud Tasks attaches to every push; the ONLY member with
#              roles/run.invoker on the services. The executors accept tokens of this account only
#              (AUTH_ALLOWED_EMAILS). Nothing here grants allUsers or allAuthenticatedUsers.
#   pusher   — with Pub/Sub (var.pubsub): the account whose OIDC token Pub/Sub attaches to pushes
#              to the tiers it feeds, with roles/run.invoker on those services only; the executors
#              of those tiers accept it (AUTH_ALLOWED_EMAILS) besides the invoker account.
#   deployer — what Cloud Build runs as (gcloud builds submit --service-account=…): pushes the
#              image and rolls it out to the services.

resource "google_service_account" "runtime" {
  project      = var.project
  account_id   = "${var.name_prefix}-runtime"
  display_name = "Executor runtime (${var.name_prefix})"
  description  = "Identity of the executor Cloud Run services: enqueues handoffs, notifications and dead letters."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "invoker" {
  project      = var.project
  account_id   = "${var.name_prefix}-invoker"
  display_name = "Executor invoker (${var.name_prefix})"
  description  = "OIDC identity Cloud Tasks uses to push tasks to the executor services."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "pusher" {
  count = local.pubsub_push_count

  project      = var.project
  account_id   = "${var.name_prefix}-pusher"
  display_name = "Executor Pub/Sub pusher (${var.name_prefix})"
  description  = "OIDC identity Pub/Sub uses to push jobs to the executor services it feeds."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "deployer" {
  project      = var.project
  account_id   = "${var.name_prefix}-deployer"
  display_name = "Executor deployer (${var.name_prefix})"
  description  = "Cloud Build identity for cloudbuild.yaml: pushes the image and deploys the tiers."

  depends_on = [google_project_service.enabled]
}

# --- runtime: queues it writes to ----------------------------------------------------------------

locals {
  # Queues the executors enqueue into: every tier but the first (as "next" of the one before),
  # the notifier and the dead-letter queue.
  runtime_enqueue_queues = merge(
    { for k, t in local.tiers : "tier-${k}" => google_cloud_tasks_queue.tier[k].name if t.number > 1 },
    {
      notifier      = google_cloud_tasks_queue.notifier.name
      "dead-letter" = google_cloud_tasks_queue.dead_letter.name
    },
  )
}

resource "google_cloud_tasks_queue_iam_member" "runtime_enqueuer" {
  for_each = local.runtime_enqueue_queues

  project  = var.project
  location = var.region
  name     = each.value
  role     = "roles/cloudtasks.enqueuer"
  member   = google_service_account.runtime.member
}

# GetQueue on its own queue, for the startup check that the queue's max_attempts exceeds MAX_ATTEMPTS.
resource "google_cloud_tasks_queue_iam_member" "runtime_viewer" {
  for_each = local.tiers

  project  = var.project
  location = var.region
  name     = google_cloud_tasks_queue.tier[each.key].name
  role     = "roles/cloudtasks.viewer"
  member   = google_service_account.runtime.member
}

# Creating a task with oidc_token.service_account_email = invoker needs actAs on the invoker.
resource "google_service_account_iam_member" "runtime_acts_as_invoker" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.runtime.member
}

# --- invoker: the only identity allowed to call the services ---------------------------------------

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.tiers

  project  = var.project
  location = var.region
  name     = google_cloud_run_v2_service.tier[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}

# --- Pub/Sub (var.pubsub): see pubsub.tf -----------------------------------------------------------

# The pusher may call exactly the services Pub/Sub feeds.
resource "google_cloud_run_v2_service_iam_member" "pusher" {
  for_each = local.pubsub_tiers

  project  = var.project
  location = var.region
  name     = google_cloud_run_v2_service.tier[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.pusher[0].member
}

# The Pub/Sub service agent mints the pusher's OIDC tokens. Projects created since April 2021 grant
# this implicitly; older ones need it, and it costs nothing to state.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  count = local.pubsub_push_count

  service_account_id = google_service_account.pusher[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service.enabled]
}

# Dead-lettering is done by the service agent: it publishes to the dead-letter topic and acks on
# the source subscription. Without both grants Pub/Sub keeps redelivering past max_delivery_attempts.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter_publisher" {
  count = local.pubsub_push_count

  project = var.project
  topic   = google_pubsub_topic.dead_letter[0].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_subscriber" {
  for_each = local.pubsub_tiers

  project      = var.project
  subscription = google_pubsub_subscription.tier[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# The executors publish every terminal outcome (NOTIFY_TOPIC).
resource "google_pubsub_topic_iam_member" "runtime_outcomes_publisher" {
  count = local.pubsub_outcomes_count

  project = var.project
  topic   = google_pubsub_topic.outcomes[0].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.runtime.member
}

# GetSubscription on the subscription feeding a tier, for the startup check that its
# max_delivery_attempts exceeds MAX_ATTEMPTS (EXECUTOR_SUBSCRIPTION).
resource "google_pubsub_subscription_iam_member" "runtime_viewer" {
  for_each = local.pubsub_tiers

  project      = var.project
  subscription = google_pubsub_subscription.tier[each.key].name
  role         = "roles/pubsub.viewer"
  member       = google_service_account.runtime.member
}

# Producers publish jobs to the fed tiers' topics.
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.pubsub_publishers

  project = var.project
  topic   = google_pubsub_topic.tier[each.value.tier].name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}

# Clients of the outcomes: pull the chain's subscription, or attach their own to the topic.
resource "google_pubsub_subscription_iam_member" "outcome_subscriber" {
  for_each = toset(var.pubsub.enabled ? var.pubsub.outcome_subscribers : [])

  project      = var.project
  subscription = google_pubsub_subscription.outcomes[0].name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}

resource "google_pubsub_topic_iam_member" "outcome_subscriber" {
  for_each = toset(var.pubsub.enabled ? var.pubsub.outcome_subscribers : [])

  project = var.project
  topic   = google_pubsub_topic.outcomes[0].name
  role    = "roles/pubsub.subscriber"
  member  = each.value
}

# --- clients: may enqueue into the first tier, as the invoker --------------------------------------

resource "google_cloud_tasks_queue_iam_member" "client_enqueuer" {
  for_each = toset(var.client_members)

  project  = var.project
  location = var.region
  name     = google_cloud_tasks_queue.tier["1"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = each.value
}

resource "google_service_account_iam_member" "client_acts_as_invoker" {
  for_each = toset(var.client_members)

  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}

# --- deployer: Cloud Build ----------------------------------------------------------------------------

resource "google_artifact_registry_repository_iam_member" "deployer_writer" {
  project    = var.project
  location   = var.region
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.deployer.member
}

resource "google_cloud_run_v2_service_iam_member" "deployer_developer" {
  for_each = local.tiers

  project  = var.project
  location = var.region
  name     = google_cloud_run_v2_service.tier[each.key].name
  role     = "roles/run.developer"
  member   = google_service_account.deployer.member
}

# Deploying a revision that runs as the runtime account needs actAs on it.
resource "google_service_account_iam_member" "deployer_acts_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# Builds that run as a user-specified account must be allowed to write their logs.
resource "google_project_iam_member" "deployer_log_writer" {
  project = var.project
  role    = "roles/logging.logWriter"
  member  = google_service_account.deployer.member
}
