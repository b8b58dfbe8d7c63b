// The migration orchestrator in one resource group: a Flex Consumption Function App running the Durable
// orchestrations, its storage (task hub, deployment package), Service Bus with exactly the entities the app uses,
// monitoring, one user-assigned identity holding every permission the app needs and no more, and the app's Entra
// registration (app roles Migrations.Read, .Operate, .Approve) that App Service authentication checks every caller
// against.
// No keys, SAS tokens, client secrets or connection strings anywhere: every connection is identity-based.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it seeds a short unique token in every resource name.')
param environmentName string

@minLength(1)
@description('Region for every resource (Flex Consumption must be offered there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the person deploying, given read access to the logs, the right to send test messages and the app roles of migrationDeployerAppRoles. Empty to skip.')
param principalId string = ''

@description('Comma-separated app roles of the app\'s registration given to principalId (Migrations.Read, Migrations.Operate, Migrations.Approve). Empty gives the deployer none; grant people roles afterwards in Entra (infra/README.md).')
param migrationDeployerAppRoles string = 'Migrations.Operate,Migrations.Approve'

// Azure CLI's public client id (azure-cli, src/azure-cli-core/azure/cli/core/auth/identity.py); azd signs in with the same
// one (azure-dev, cAZD_CLIENT_ID).
@description('Comma-separated client ids of the public clients pre-authorised to ask for a user token for the app\'s registration. The default is the Azure CLI (and azd, which signs in as it), which the command line\'s DefaultAzureCredential uses.')
param migrationApiClientAppIds string = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

@description('Comma-separated ARM ids of the Recovery Services vaults the app may touch. Site Recovery Contributor is granted on each vault, never on a subscription, and the app refuses every other vault.')
param siteRecoveryVaultIds string

@description('Comma-separated ARM ids of the resource groups where migrated and test VMs are created. The app refuses a plan targeting any other (ASR_ALLOWED_TARGET_SCOPES).')
param targetResourceGroupIds string = ''

@description('Comma-separated ARM ids of the target and test virtual networks the migrated VMs join.')
param targetNetworkIds string = ''

@description('Comma-separated ARM ids of the storage accounts Site Recovery uses for replication logs and cache.')
param replicationStorageAccountIds string = ''

@description('Python version of the Function App; the project is tested on 3.11.')
param pythonVersion string = '3.11'

@description('Deploy the sample Logic Apps workflows of infra/logicapps (submit and wait, approval by email, completion notice) with their own identity. Off by default; see infra/logicapps/README.md for the one-time steps they need.')
param deployLogicApps bool = false

@description('Logic Apps only: who approves cutovers (a person or a mail-enabled group).')
param logicAppsApproverEmail string = ''

@description('Logic Apps only: who hears about finished waves.')
param logicAppsNotifyEmail string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}migrate-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var vaultIds = empty(siteRecoveryVaultIds) ? [] : split(siteRecoveryVaultIds, ',')
var targetGroupIds = empty(targetResourceGroupIds) ? [] : split(targetResourceGroupIds, ',')
var networkIds = empty(targetNetworkIds) ? [] : split(targetNetworkIds, ',')
var storageIds = empty(replicationStorageAccountIds) ? [] : split(replicationStorageAccountIds, ',')
var deployerAppRoles = empty(migrationDeployerAppRoles) ? [] : split(migrationDeployerAppRoles, ',')
var apiClientAppIds = empty(migrationApiClientAppIds) ? [] : split(migrationApiClientAppIds, ',')

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity the app runs as: the host (storage), the Service Bus triggers and our code (DefaultAzureCredential).
module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.2' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}migrate-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.12.0' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.4.1' = {
  name: 'monitoring'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    kind: 'web'
    applicationType: 'web'
    disableLocalAuth: true // telemetry is sent with the identity's Entra token, not the instrumentation key
    roleAssignments: [
      {
        // Why: with local auth off, the host publishes telemetry only with this role.
        principalId: identity.outputs.principalId
        roleDefinitionIdOrName: 'Monitoring Metrics Publisher'
        principalType: 'ServicePrincipal'
      }
    ]
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.29.0' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // no account keys: the host and Durable connect with the identity
    minimumTlsVersion: 'TLS1_2'
    dnsEndpointType: 'Standard'
    blobServices: {
      containers: [
        {
          name: deploymentContainerName
        }
      ]
    }
    roleAssignments: [
      {
        // Why: the host's own blobs (leases, keys) and the Flex deployment package.
        principalId: identity.outputs.principalId
        roleDefinitionIdOrName: 'Storage Blob Data Owner'
        principalType: 'ServicePrincipal'
      }
      {
        // Why: the Durable task hub's control and work-item queues.
        principalId: identity.outputs.principalId
        roleDefinitionIdOrName: 'Storage Queue Data Contributor'
        principalType: 'ServicePrincipal'
      }
      {
        // Why: the Durable task hub's instance and history tables.
        principalId: identity.outputs.principalId
        roleDefinitionIdOrName: 'Storage Table Data Contributor'
        principalType: 'ServicePrincipal'
      }
    ]
  }
}

module plan 'br/public:avm/res/web/serverfarm:0.5.0' = {
  name: 'plan'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    skuName: 'FC1' // Flex Consumption
    reserved: true
  }
}

module serviceBus './app/servicebus.bicep' = {
  name: 'serviceBus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    operatorPrincipalId: principalId
  }
}

// The app's Entra registration and service principal (Microsoft Graph Bicep extension; Graph objects belong to the
// tenant, the module's resource group only hosts the deployment).
module entra './app/entra.bicep' = {
  name: 'entra'
  scope: rg
  params: {
    uniqueName: 'migrate-api-${resourceToken}'
    displayName: 'Migration orchestrator (${environmentName})'
    deployerPrincipalId: principalId
    deployerRoles: deployerAppRoles
    preAuthorizedClientIds: apiClientAppIds
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    planId: plan.outputs.resourceId
    pythonVersion: pythonVersion
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    applicationInsightsName: monitoring.outputs.name
    serviceBusNamespaceFqdn: serviceBus.outputs.fullyQualifiedNamespace
    allowedVaultIds: siteRecoveryVaultIds
    allowedTargetScopes: targetResourceGroupIds
    apiClientId: entra.outputs.clientId
    apiIdentifierUri: entra.outputs.identifierUri
  }
}

// Site Recovery Contributor on each allowed vault, at the vault and nowhere wider.
module vaultAccess './app/vault-access.bicep' = [for vaultId in vaultIds: {
  name: 'vault-access-${uniqueString(vaultId)}'
  scope: resourceGroup(split(vaultId, '/')[2], split(vaultId, '/')[4])
  params: {
    vaultName: last(split(vaultId, '/'))
    principalId: identity.outputs.principalId
  }
}]

// Virtual Machine Contributor on each target resource group: ASR checks that the caller enabling replication
// and failing over may create the VM, its NICs and disks there.
module targetGroupAccess './app/target-group-access.bicep' = [for groupId in targetGroupIds: {
  name: 'target-group-access-${uniqueString(groupId)}'
  scope: resourceGroup(split(groupId, '/')[2], split(groupId, '/')[4])
  params: {
    principalId: identity.outputs.principalId
  }
}]

// Join rights on each target or test network, scoped to the network itself.
module networkAccess './app/network-access.bicep' = [for networkId in networkIds: {
  name: 'network-access-${uniqueString(networkId)}'
  scope: resourceGroup(split(networkId, '/')[2], split(networkId, '/')[4])
  params: {
    networkName: last(split(networkId, '/'))
    principalId: identity.outputs.principalId
  }
}]

// Read access to the replication log / cache storage accounts, scoped to each account.
module storageAccess './app/replication-storage-access.bicep' = [for storageId in storageIds: {
  name: 'replication-storage-access-${uniqueString(storageId)}'
  scope: resourceGroup(split(storageId, '/')[2], split(storageId, '/')[4])
  params: {
    storageAccountName: last(split(storageId, '/'))
    principalId: identity.outputs.principalId
  }
}]

// The sample workflows, when asked for: their own identity, receive rights on the two subscriptions they read, and
// the two app roles their HTTP calls need; their tokens are asked for the app's registration.
module logicApps './app/logicapps.bicep' = if (deployLogicApps) {
  name: 'logicApps'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    serviceBusNamespaceName: last(split(serviceBus.outputs.namespaceId, '/'))
    functionAppUrl: api.outputs.uri
    functionAppAudience: entra.outputs.identifierUri
    apiServicePrincipalId: entra.outputs.servicePrincipalId
    operateRoleId: entra.outputs.operateRoleId
    approveRoleId: entra.outputs.approveRoleId
    approverEmail: logicAppsApproverEmail
    notifyEmail: logicAppsNotifyEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.name
// What the command line asks azure-identity for (cli/api_client.py), and the registration's client id.
output MIGRATION_API_SCOPE string = entra.outputs.scope
output MIGRATION_API_CLIENT_ID string = entra.outputs.clientId
