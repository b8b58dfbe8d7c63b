// Virtual Machine Contributor on one replication log / cache storage account, scoped to the account: Site Recovery
// checks that the caller enabling replication may read the account and list its keys to write replication logs.
param storageAccountName string
param principalId string

var virtualMachineContributor = '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, virtualMachineContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
