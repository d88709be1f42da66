variable "namespace" {
  type        = string
  description = "Namespace to deploy into; it must exist."
}

variable "image" {
  type        = string
  description = "Container image of the backend, e.g. ghcr.io/example/chatbot-api:0.1.0."
}

variable "replicas" {
  type        = number
  description = "Number of API pods."
  default     = 2
}

variable "container_port" {
  type        = number
  description = "Port the backend listens on (CHATBOT_PORT)."
  default     = 8000
}

variable "settings" {
  type        = map(string)
  description = "Non-secret CHATBOT_* settings."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.settings) : startswith(name, "CHATBOT_")])
    error_message = "Every setting name must start with CHATBOT_."
  }
}

variable "secret_name" {
  type        = string
  description = "Existing Secret holding CHATBOT_DATABASE_URL and the provider API keys."
}
