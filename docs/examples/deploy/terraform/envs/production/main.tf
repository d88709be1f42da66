# [start:root]
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
  }

  # Remote state, versioned and encrypted. use_lockfile is S3-native locking
  # (Terraform 1.10+, OpenTofu 1.10+): no DynamoDB table any more.
  backend "s3" {
    bucket       = "example-terraform-state"
    key          = "chatbot/production.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { service = "chatbot", environment = "production", managed_by = "terraform" }
  }
}

provider "kubernetes" {
  config_path    = "~/.kube/config"
  config_context = var.kube_context
}

module "postgres" {
  source                    = "../../modules/postgres"
  name                      = "chatbot-production"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.private_subnet_ids
  client_security_group_ids = [var.cluster_security_group_id]
}

module "redis" {
  source                    = "../../modules/redis"
  name                      = "chatbot-production"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.private_subnet_ids
  client_security_group_ids = [var.cluster_security_group_id]
}

module "app" {
  source      = "../../chatbot"
  namespace   = "chatbot"
  image       = var.image
  replicas    = 3
  secret_name = "chatbot-api" # synced by External Secrets from Secrets Manager
  settings = {
    CHATBOT_REDIS_URL            = module.redis.url
    CHATBOT_LLM_PROVIDER         = "openai"
    CHATBOT_CHAT_MODEL           = var.chat_model
    CHATBOT_SECURITY__JWKS_URL   = var.jwks_url
    CHATBOT_SECURITY__JWT_ISSUER = var.jwt_issuer
  }
}
# [end:root]
