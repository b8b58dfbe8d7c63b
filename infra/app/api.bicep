// The Function App on Flex Consumption, running as the user-assigned identity with identity-based settings only,
// behind App Service authentication (Microsoft Entra) for every path except the health probe.
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
@description('Client id (appId) of the app\'s Entra registration (app/entra.bicep), the only registration whose tokens App Service authentication accepts.')
param apiClientId string
@description('Application ID URI of that registration (api://<appId>).')
param apiIdentifierUri string
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
        // App Service authentication also requires the token's tid claim to be this tenant, and answers 403
        // otherwise (Microsoft Learn, "Configure your App Service or Azure Functions app to use Microsoft Entra
        // sign-in", built-in authorization policy).
        {
          name: 'WEBSITE_AUTH_AAD_ALLOWED_TENANTS'
          value: tenant().tenantId
        }
      ]
    }
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: name
}

// App Service authentication: every request needs a valid Entra token for the app's registration, or it gets 401
// before it reaches the host (HTTP routes and Durable's /runtime/webhooks/durabletask/* alike). The functions are
// authLevel anonymous: with App Service authentication in front, Microsoft's guide for calls from Logic Apps says the
// function must not also ask for a key. The app then reads the caller's app roles from X-MS-CLIENT-PRINCIPAL
// (migration/access.py), which App Service alone sets.
// Only bearer tokens are validated here, nobody is signed in through a browser, so there is no client secret
// (clientSecretSettingName) and no token store.
resource authentication 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  dependsOn: [
    site
  ]
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // Health probes carry no token; the route reveals nothing (triggers/health.py).
      excludedPaths: [
        '/api/health'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          // v2.0 issuer of this tenant, in whichever cloud the deployment runs.
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          // A v2 token names the client id as its audience; the Application ID URI is accepted as well.
          allowedAudiences: [
            apiIdentifierUri
            apiClientId
          ]
          // No allowedApplications: it would also refuse people signed in through the Azure CLI. Who may call is
          // settled by the app roles (appRoleAssignmentRequired on the service principal), and what they may do by
          // the role each route asks for.
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = site.outputs.name
output uri string = 'https://${site.outputs.defaultHostname}'
