// The Function App on Flex Consumption, running as the user-assigned identity with identity-based settings only.
param name string
param location string
param tags object
param planId string
param pythonVersion string
param storageAccountName string
param deploymentContainerName string
param identityId string
param identityClientId string
param applicationInsightsName string
param serviceBusNamespaceFqdn string
@description('Comma-separated ARM ids of the vaults the app may touch (ASR_ALLOWED_VAULT_IDS).')
param allowedVaultIds string
@description('Comma-separated ARM ids of the resource groups where the app may create VMs (ASR_ALLOWED_TARGET_SCOPES).')
param allowedTargetScopes string
param instanceMemoryMB int = 2048
param maximumInstanceCount int = 40

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

module site 'br/public:avm/res/web/site:0.19.3' = {
  name: 'functionApp'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    serverFarmResourceId: planId
    httpsOnly: true
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Host storage and the Durable task hub, through the identity (the account has shared keys off).
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: storage.properties.primaryEndpoints.queue
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: storage.properties.primaryEndpoints.table
        }
        // The Service Bus triggers and our event publisher, through the identity (the namespace has local auth off).
        {
          name: 'ServiceBusConnection__fullyQualifiedNamespace'
          value: serviceBusNamespaceFqdn
        }
        {
          name: 'ServiceBusConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'ServiceBusConnection__clientId'
          value: identityClientId
        }
        // DefaultAzureCredential in our code (Site Recovery, Service Bus) picks the user-assigned identity.
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        // The vaults the app may touch; a plan naming any other vault is refused.
        {
          name: 'ASR_ALLOWED_VAULT_IDS'
          value: allowedVaultIds
        }
        // The resource groups migrated and test VMs may be created in (the same ones the identity has rights on);
        // a plan targeting any other is refused. Empty refuses every target.
        {
          name: 'ASR_ALLOWED_TARGET_SCOPES'
          value: allowedTargetScopes
        }
        // Telemetry with the identity's Entra token (the component has local auth off).
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
      ]
    }
  }
}

output name string = site.outputs.name
output uri string = 'https://${site.outputs.defaultHostname}'
