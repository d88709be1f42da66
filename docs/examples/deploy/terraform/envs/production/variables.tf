variable "region" {
  type        = string
  description = "AWS region."
  default     = "eu-central-1" # EU data residency for EU users' conversations
}

variable "kube_context" {
  type        = string
  description = "kubeconfig context of the production cluster."
}

variable "vpc_id" {
  type        = string
  description = "The cluster's VPC."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the cluster, one per zone."
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group of the cluster's nodes."
}

variable "image" {
  type        = string
  description = "Image reference, by digest in production (ghcr.io/...@sha256:...)."
}

variable "chat_model" {
  type        = string
  description = "Model id; example only, verify on the provider's models page."
}

variable "jwks_url" {
  type        = string
  description = "The identity provider's JWKS endpoint."
}

variable "jwt_issuer" {
  type        = string
  description = "Expected iss claim of access tokens."
}
