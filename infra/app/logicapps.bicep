// The sample Logic Apps (Consumption) of infra/logicapps/: submit and wait, approval by email, completion notice.
// They run as their own user-assigned identity, separate from the app's, which may only receive from the two topic
// subscriptions they read and holds exactly the two app roles of the app's registration their HTTP calls need. No key
// or connection string: the Service Bus connection signs in with that identity, the HTTP actions present its Entra
// token for the app's registration to the Function App (App Service authentication, app/api.bicep), and the Office 365
// connection is created unauthorised, for an operator to sign in to once in the portal.
extension microsoftGraphV1

param location string
param tags object
@description('Short unique suffix for resource names.')
param resourceToken string
@description('Name of the Service Bus namespace holding the migration-events topic.')
param serviceBusNamespaceName string
@description('Base URL of the Function App (https://..., no trailing slash).')
param functionAppUrl string
@description('Audience of the token the workflows present to the Function App: the Application ID URI of the app\'s registration (app/entra.bicep), which App Service authentication accepts.')
param functionAppAudience string
@description('Object id of the service principal of the app\'s registration, which holds its app roles.')
param apiServicePrincipalId string
@description('Id of the app role Migrations.Operate (submit, and read what was submitted).')
param operateRoleId string
@description('Id of the app role Migrations.Approve (approve or reject a cutover).')
param approveRoleId string
@description('Who approves cutovers (a person or a mail-enabled group).')
param approverEmail string
@description('Who hears about finished waves (a person or a mail-enabled group).')
param notifyEmail string

var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
var submitDefinition = loadJsonContent('../logicapps/submit-and-wait.json', '$.definition')
var approvalDefinition = loadJsonContent('../logicapps/approval.json', '$.definition')
var completionDefinition = loadJsonContent('../logicapps/completion-notification.json', '$.definition')

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-logic-migrate-${resourceToken}'
  location: location
  tags: tags
}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource events 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' existing = {
  parent: namespace
  name: 'migration-events'
}

// The two subscriptions the workflows read, with the same names and filters as emulators/servicebus/config.json.
resource approvals 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: events
  name: 'approvals'
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 5
    defaultMessageTimeToLive: 'P14D'
  }
}

// Named $Default so it replaces the catch-all rule a new subscription starts with.
resource approvalsFilter 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = {
  parent: approvals
  name: '$Default'
  properties: {
    filterType: 'CorrelationFilter'
    correlationFilter: {
      properties: {
        eventType: 'migration.awaiting_approval'
      }
    }
  }
}

resource finalResults 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: events
  name: 'final-results'
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 5
    defaultMessageTimeToLive: 'P14D'
  }
}

resource finalResultsFilter 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = {
  parent: finalResults
  name: '$Default'
  properties: {
    filterType: 'CorrelationFilter'
    correlationFilter: {
      properties: {
        eventType: 'migration.completed'
      }
    }
  }
}

// The workflows' identity receives from the two subscriptions it reads, and from nothing else.
resource approvalsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(approvals.id, identity.id, dataReceiver)
  scope: approvals
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource finalResultsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(finalResults.id, identity.id, dataReceiver)
  scope: finalResults
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The app roles the workflows' HTTP actions need, and no others: submit-and-wait POSTs /api/migrations and polls
// the status it is sent to (Migrations.Operate; any role reads), approval POSTs approveUri or rejectUri
// (Migrations.Approve); the completion notice calls nothing. Not Migrations.Read: Operate already reads.
resource operateAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = {
  principalId: identity.properties.principalId
  resourceId: apiServicePrincipalId
  appRoleId: operateRoleId
}

resource approveAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = {
  principalId: identity.properties.principalId
  resourceId: apiServicePrincipalId
  appRoleId: approveRoleId
}

// Managed-identity authentication: the managedIdentityAuth parameter set, with the namespace endpoint and no key.
resource serviceBusConnection 'Microsoft.Web/connections@2016-06-01' = {
  name: 'servicebus-migrate-${resourceToken}'
  location: location
  tags: tags
  kind: 'V1'
  properties: {
    displayName: 'Service Bus (managed identity)'
    api: {
      id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'servicebus')
    }
    parameterValueSet: {
      name: 'managedIdentityAuth'
      values: {
        namespaceEndpoint: {
          value: 'sb://${serviceBusNamespaceName}.servicebus.windows.net/'
        }
      }
    }
  }
}

// Created unauthorised: an operator signs in once (portal: API connection > Edit API connection > Authorize).
resource office365Connection 'Microsoft.Web/connections@2016-06-01' = {
  name: 'office365-migrate-${resourceToken}'
  location: location
  tags: tags
  kind: 'V1'
  properties: {
    displayName: 'Office 365 Outlook (authorise in the portal)'
    api: {
      id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'office365')
    }
  }
}

var connections = {
  servicebus: {
    connectionId: serviceBusConnection.id
    connectionName: serviceBusConnection.name
    connectionProperties: {
      authentication: {
        type: 'ManagedServiceIdentity'
        identity: identity.id
      }
    }
    id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'servicebus')
  }
  office365: {
    connectionId: office365Connection.id
    connectionName: office365Connection.name
    id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'office365')
  }
}

var workflowIdentity = {
  type: 'UserAssigned'
  userAssignedIdentities: {
    '${identity.id}': {}
  }
}

resource submitAndWait 'Microsoft.Logic/workflows@2019-05-01' = {
  name: 'logic-migrate-submit-${resourceToken}'
  location: location
  tags: tags
  identity: workflowIdentity
  properties: {
    state: 'Enabled'
    definition: submitDefinition
    parameters: {
      functionAppUrl: {
        value: functionAppUrl
      }
      functionAppAudience: {
        value: functionAppAudience
      }
      workflowIdentityId: {
        value: identity.id
      }
    }
  }
}

resource approval 'Microsoft.Logic/workflows@2019-05-01' = {
  name: 'logic-migrate-approval-${resourceToken}'
  location: location
  tags: tags
  identity: workflowIdentity
  dependsOn: [
    approvalsReceiver
  ]
  properties: {
    state: 'Enabled'
    definition: approvalDefinition
    parameters: {
      '$connections': {
        value: connections
      }
      functionAppUrl: {
        value: functionAppUrl
      }
      functionAppAudience: {
        value: functionAppAudience
      }
      workflowIdentityId: {
        value: identity.id
      }
      approverEmail: {
        value: approverEmail
      }
    }
  }
}

resource completion 'Microsoft.Logic/workflows@2019-05-01' = {
  name: 'logic-migrate-completion-${resourceToken}'
  location: location
  tags: tags
  identity: workflowIdentity
  dependsOn: [
    finalResultsReceiver
  ]
  properties: {
    state: 'Enabled'
    definition: completionDefinition
    parameters: {
      '$connections': {
        value: {
          servicebus: connections.servicebus
          office365: connections.office365
        }
      }
      notifyEmail: {
        value: notifyEmail
      }
    }
  }
}

output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output submitWorkflowName string = submitAndWait.name
