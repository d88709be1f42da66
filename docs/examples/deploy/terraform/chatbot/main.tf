locals {
  labels = { "app.kubernetes.io/name" = "chatbot-api" }
}

# [start:deployment]
resource "kubernetes_deployment_v1" "api" {
  metadata {
    name      = "chatbot-api"
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    replicas = var.replicas
    selector {
      match_labels = local.labels
    }

    template {
      metadata {
        labels = local.labels
      }

      spec {
        termination_grace_period_seconds = 120

        container {
          name  = "api"
          image = var.image

          port {
            name           = "http"
            container_port = var.container_port
          }

          env {
            name  = "CHATBOT_HOST"
            value = "0.0.0.0"
          }
          env {
            name  = "CHATBOT_PORT"
            value = tostring(var.container_port)
          }
          dynamic "env" {
            for_each = var.settings
            content {
              name  = env.key
              value = env.value
            }
          }
          env_from {
            secret_ref {
              name = var.secret_name
            }
          }

          liveness_probe {
            http_get {
              path = "/healthz"
              port = "http"
            }
          }
          readiness_probe {
            http_get {
              path = "/readyz"
              port = "http"
            }
          }

          resources {
            requests = { cpu = "250m", memory = "256Mi" }
            limits   = { memory = "512Mi" }
          }
        }
      }
    }
  }
}
# [end:deployment]

resource "kubernetes_service_v1" "api" {
  metadata {
    name      = "chatbot-api"
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    selector = local.labels
    port {
      name        = "http"
      port        = 80
      target_port = "http"
    }
  }
}
