# Inputs. Only `project`, `image` and `tiers` need a value; see terraform.tfvars.example.

variable "project" {
  description = "Google Cloud project id that hosts the queues, services and image repository."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run services, the Cloud Tasks queues and the Artifact Registry repository."
  type        = string
  default     = "us-central1"
}

variable "name_prefix" {
  description = "Prefix of every resource name: queues <prefix>-tier-N, services <prefix>-tier-N, accounts <prefix>-runtime / -invoker / -deployer."
  type        = string
  default     = "executor"

  validation {
    # Service account ids are at most 30 characters (<prefix>-deployer), and a Cloud Run service
    # only gets its deterministic URL while <service>-<project number> fits in one 63-character
    # DNS label; the chain wiring depends on that URL.
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name_prefix)) && !endswith(var.name_prefix, "-")
    error_message = "name_prefix must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "image" {
  description = "Container image the services start with, e.g. us-central1-docker.pkg.dev/PROJECT/executor/executor:TAG. Later rollouts come from Cloud Build (cloudbuild.yaml); Terraform ignores image changes made there."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0
    error_message = "image must name a container image; build and push one first (see docs/deploy.md)."
  }
}

variable "repository_id" {
  description = "Artifact Registry (Docker) repository that holds the executor image."
  type        = string
  default     = "executor"
}

variable "worker" {
  description = "Default work of every tier: set exactly one of module (an ES module path inside the image, or `demo`), url (an HTTP worker) or command (a JSON array of argv, or words split on spaces). A tier may override it."
  type = object({
    module  = optional(string)
    url     = optional(string)
    command = optional(string)
  })
  default = { module = "demo" }

  validation {
    condition     = length([for v in [var.worker.module, var.worker.url, var.worker.command] : v if v != null]) == 1
    error_message = "worker must set exactly one of module, url or command."
  }
}

variable "tiers" {
  description = <<-EOT
    The chain, first tier first. Tier N forwards tasks that spent its attempt budget to tier N+1; the
    last tier turns them into failure notifications. Per tier:
      max_attempts              executor budget (MAX_ATTEMPTS) before the task moves on
      handoff_retries           extra queue attempts kept for retrying a failed handoff; null (default)
                                makes the queue unlimited (-1), a number N gives max_attempts + N
      max_dispatches_per_second queue rate limit
      max_concurrent_dispatches queue concurrency limit
      min_backoff, max_backoff, max_doublings   queue retry backoff ("10s"-style durations)
      min_instances, max_instances              Cloud Run scaling (0 = scale to zero)
      concurrency               requests per Cloud Run instance
      worker_timeout_seconds    time limit of one run of the work (WORKER_TIMEOUT_SECONDS); the Cloud Run
                                request timeout is this plus 60 s for the handoff
      cpu, memory               Cloud Run container limits
      worker                    optional override of var.worker for this tier
  EOT
  type = list(object({
    max_attempts              = number
    handoff_retries           = optional(number)
    max_dispatches_per_second = optional(number, 100)
    max_concurrent_dispatches = optional(number, 100)
    min_backoff               = optional(string, "1s")
    max_backoff               = optional(string, "60s")
    max_doublings             = optional(number, 4)
    min_instances             = optional(number, 0)
    max_instances             = optional(number, 10)
    concurrency               = optional(number, 80)
    worker_timeout_seconds    = optional(number, 300)
    cpu                       = optional(string, "1")
    memory                    = optional(string, "512Mi")
    worker = optional(object({
      module  = optional(string)
      url     = optional(string)
      command = optional(string)
    }))
  }))

  validation {
    condition     = length(var.tiers) >= 1
    error_message = "tiers must list at least one tier."
  }
  validation {
    condition     = alltrue([for t in var.tiers : t.max_attempts >= 1 && floor(t.max_attempts) == t.max_attempts])
    error_message = "Every tier's max_attempts must be a positive integer."
  }
  validation {
    # A queue that gives up at or before the executor's budget drops a task whose handoff failed.
    condition     = alltrue([for t in var.tiers : t.handoff_retries == null || try(t.handoff_retries >= 1, false)])
    error_message = "handoff_retries must be null (unlimited queue attempts) or at least 1, so the queue always allows more attempts than max_attempts."
  }
  validation {
    condition     = alltrue([for t in var.tiers : t.min_instances >= 0 && t.max_instances >= 1 && t.min_instances <= t.max_instances])
    error_message = "Every tier needs 0 <= min_instances <= max_instances and max_instances >= 1."
  }
  validation {
    # Cloud Tasks waits 10 minutes for an HTTP target by default; the work and the handoff must fit.
    condition     = alltrue([for t in var.tiers : t.worker_timeout_seconds >= 1 && t.worker_timeout_seconds <= 540])
    error_message = "worker_timeout_seconds must be between 1 and 540 (Cloud Tasks' 600 s dispatch deadline minus 60 s for the handoff)."
  }
  validation {
    condition = alltrue([
      for t in var.tiers : t.worker == null || try(length([for v in [t.worker.module, t.worker.url, t.worker.command] : v if v != null]) == 1, false)
    ])
    error_message = "A tier's worker override must set exactly one of module, url or command."
  }
}

variable "notifier" {
  description = "Notifier queue (notifications to clients' webhooks): name suffix, retry and rate settings."
  type = object({
    name                      = optional(string, "notifier")
    max_attempts              = optional(number, 100)
    min_backoff               = optional(string, "1s")
    max_backoff               = optional(string, "300s")
    max_doublings             = optional(number, 8)
    max_dispatches_per_second = optional(number, 50)
    max_concurrent_dispatches = optional(number, 100)
  })
  default = {}

  validation {
    condition     = var.notifier.max_attempts == -1 || var.notifier.max_attempts >= 1
    error_message = "notifier.max_attempts must be -1 (unlimited) or at least 1."
  }
}

variable "dead_letter" {
  description = "Dead-letter queue for undecodable bodies. It is kept PAUSED so tasks wait there for inspection; target_url is where they would go if someone resumed it (the reserved .invalid domain makes a resume fail loudly rather than deliver anywhere)."
  type = object({
    name       = optional(string, "dead-letter")
    target_url = optional(string, "https://dead-letter.invalid/")
  })
  default = {}

  validation {
    condition     = can(regex("^https?://[^/\\s]+", var.dead_letter.target_url))
    error_message = "dead_letter.target_url must be an http(s) URL."
  }
}

variable "notify_url" {
  description = "Default webhook for notifications of jobs that name none (NOTIFY_URL); null leaves it unset."
  type        = string
  default     = null
}

variable "client_members" {
  description = "IAM members (e.g. serviceAccount:app@PROJECT.iam.gserviceaccount.com) allowed to enqueue into the first tier's queue with the invoker account's OIDC token."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.client_members : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "client_members must name accounts; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "ingress" {
  description = "Cloud Run ingress. Every request still needs the invoker account's OIDC token; INGRESS_TRAFFIC_ALL lets Cloud Tasks reach the services without a VPC."
  type        = string
  default     = "INGRESS_TRAFFIC_ALL"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "log_level" {
  description = "Executor LOG_LEVEL: trace | debug | info | warn | error | fatal | silent."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal", "silent"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal, silent."
  }
}

variable "deletion_protection" {
  description = "Protect the Cloud Run services from `terraform destroy`. Set false (and apply) before destroying."
  type        = bool
  default     = true
}

variable "pubsub" {
  description = <<-EOT
    Pub/Sub for the chain; off by default (see docs/deploy.md, "Pub/Sub"). When enabled:
      - every tier publishes each terminal outcome to the topic <prefix>-outcomes (NOTIFY_TOPIC), which
        has a pull subscription of the same name, so no outcome is lost before clients subscribe;
      - each tier in `tiers` is also fed by the topic <prefix>-tier-N through the push subscription
        <prefix>-tier-N-push (EXECUTOR_SUBSCRIPTION): OIDC tokens of the <prefix>-pusher account, a
        dead-letter policy onto the topic <prefix>-dead-letter (which has its own pull subscription:
        messages published to a topic without one are lost) and more delivery attempts than the
        tier's MAX_ATTEMPTS. Tiers still hand off to the next tier through its Cloud Tasks queue.
    Attributes:
      enabled              create the topics and subscriptions, set NOTIFY_TOPIC on every tier
      tiers                tier numbers fed by Pub/Sub (default [1]; [] = the outcomes topic only)
      min_backoff, max_backoff   push retry backoff of the tiers' subscriptions ("10s"-style, at most 600s)
      publishers           IAM members allowed to publish jobs to the tiers' topics
      outcome_subscribers  IAM members allowed to pull <prefix>-outcomes and attach their own subscriptions
  EOT
  type = object({
    enabled             = optional(bool, false)
    tiers               = optional(list(number), [1])
    min_backoff         = optional(string, "10s")
    max_backoff         = optional(string, "600s")
    publishers          = optional(list(string), [])
    outcome_subscribers = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = alltrue([for n in var.pubsub.tiers : n >= 1 && floor(n) == n]) && length(distinct(var.pubsub.tiers)) == length(var.pubsub.tiers)
    error_message = "pubsub.tiers must list distinct tier numbers (1 = the first tier)."
  }
  validation {
    # Pub/Sub's retry policy accepts 0 to 600 seconds for both bounds.
    condition = alltrue([
      for d in [var.pubsub.min_backoff, var.pubsub.max_backoff] : can(regex("^[0-9]+s$", d)) && try(tonumber(trimsuffix(d, "s")) <= 600, false)
    ]) && try(tonumber(trimsuffix(var.pubsub.min_backoff, "s")) <= tonumber(trimsuffix(var.pubsub.max_backoff, "s")), false)
    error_message = "pubsub.min_backoff and pubsub.max_backoff must be whole seconds like \"10s\", at most \"600s\", with min_backoff <= max_backoff."
  }
  validation {
    condition     = alltrue([for m in concat(var.pubsub.publishers, var.pubsub.outcome_subscribers) : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "pubsub.publishers and pubsub.outcome_subscribers must name accounts; allUsers and allAuthenticatedUsers are refused."
  }
}
